// pnpm certs [--out DIR] [--hosts-client H,...] [--hosts-server H,...] [--hosts-helper H,...] [--days N]
// Creates a deployment CA and the three party certificates offline: DIR/ca.pem, DIR/ca.key, and
// DIR/{client,server,helper}.{pem,key}. Keys are written with mode 0600 and never printed. Copy each
// party's pem/key plus ca.pem to its host; keep ca.key offline.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createCA, issueCert } from '@si/net';

const args = process.argv.slice(2).filter((a) => a !== '--');
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = resolve(opt('out') ?? 'certs');
const days = Number(opt('days') ?? 730);
if (existsSync(join(out, 'ca.key'))) {
  console.error(`${out}/ca.key exists: refusing to overwrite a deployment CA (choose another --out)`);
  process.exit(1);
}
mkdirSync(out, { recursive: true, mode: 0o700 });
const ca = createCA();
writeFileSync(join(out, 'ca.pem'), ca.cert);
writeFileSync(join(out, 'ca.key'), ca.key, { mode: 0o600 });
for (const role of ['client', 'server', 'helper']) {
  const hosts = opt(`hosts-${role}`)?.split(',').filter(Boolean) ?? ['localhost', '127.0.0.1', '::1'];
  const c = issueCert(ca, { role, hosts, days });
  writeFileSync(join(out, `${role}.pem`), c.cert);
  writeFileSync(join(out, `${role}.key`), c.key, { mode: 0o600 });
  console.log(`${role}: ${join(out, `${role}.pem`)} (hosts ${hosts.join(', ')}, ${days} days)`);
}
console.log(`CA: ${join(out, 'ca.pem')} (key ${join(out, 'ca.key')}: keep it offline)`);
