/**
 * Deployment certificates, made offline: a CA and one certificate per party whose common name is its
 * role. Keys are written with mode 0600 and never printed.
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createCA, issueCert, type TlsCredentials } from '@si/net';
import type { Role } from '@si/sharing';

export interface CertOptions {
  /** Host names and addresses each party's certificate is valid for (default localhost, 127.0.0.1, ::1). */
  hosts?: Partial<Record<Role, string[]>>;
  /** Validity of the party certificates in days (default 730). */
  days?: number;
  /** Validity of the CA in days (default 3650, and never shorter than the party certificates'). */
  caDays?: number;
}

/** Writes a private key file with mode 0600, also when the file existed with another mode. */
function writeKey(path: string, pem: string): void {
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Writes DIR/ca.pem, DIR/ca.key and DIR/{client,server,helper}.{pem,key}.
 * @returns the files written, for the user to copy: each party gets its pem and key plus ca.pem
 * @throws if DIR already holds a CA key (a deployment CA is never overwritten)
 */
export function writeDeploymentCerts(dir: string, o: CertOptions = {}): string[] {
  const out = resolve(dir);
  if (existsSync(join(out, 'ca.key'))) throw new Error(`${join(out, 'ca.key')} exists: refusing to overwrite a deployment CA (choose another directory)`);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const days = o.days ?? 730;
  const ca = createCA({ days: Math.max(o.caDays ?? 3650, days) });
  writeFileSync(join(out, 'ca.pem'), ca.cert);
  writeKey(join(out, 'ca.key'), ca.key);
  const files = [join(out, 'ca.pem'), join(out, 'ca.key')];
  for (const role of ['client', 'server', 'helper'] as const) {
    const c = issueCert(ca, { role, hosts: o.hosts?.[role] ?? ['localhost', '127.0.0.1', '::1'], days });
    writeFileSync(join(out, `${role}.pem`), c.cert);
    writeKey(join(out, `${role}.key`), c.key);
    files.push(join(out, `${role}.pem`), join(out, `${role}.key`));
  }
  return files;
}

/** A party's credentials from a directory holding ca.pem, ROLE.pem and ROLE.key. */
export function readCredentials(dir: string, role: Role): TlsCredentials {
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (e) {
      throw new Error(`cannot read ${join(dir, name)} (the ${role} needs ca.pem, ${role}.pem and ${role}.key in ${dir}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return { ca: read('ca.pem'), cert: read(`${role}.pem`), key: read(`${role}.key`) };
}

/** A deployment file: where the server and helper listen, and the certificate directory. */
export interface DeploymentFile {
  server: { host: string; port: number };
  helper: { host: string; port: number };
  /** Directory with ca.pem and ROLE.pem / ROLE.key (relative paths are relative to the file). */
  certs: string;
  /** Address the server and helper bind to (default: their host above). */
  bind?: string;
}

/**
 * Reads and checks a deployment file, e.g.
 * `{"server": {"host": "10.0.0.2", "port": 7001}, "helper": {"host": "10.0.0.3", "port": 7002}, "certs": "certs"}`.
 */
export function readDeployment(path: string): DeploymentFile {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read deployment file ${path}: ${(e as Error).message}`);
  }
  const where = (k: 'server' | 'helper') => {
    const v = d[k] as { host?: unknown; port?: unknown } | undefined;
    if (!v || typeof v.host !== 'string' || !v.host || !Number.isInteger(v.port) || (v.port as number) < 1 || (v.port as number) > 65535)
      throw new Error(`${path}: "${k}" must be {"host": "...", "port": 1..65535}, got ${JSON.stringify(v)}`);
    return { host: v.host, port: v.port as number };
  };
  if (typeof d.certs !== 'string' || !d.certs) throw new Error(`${path}: "certs" must name the certificate directory`);
  if (d.bind !== undefined && typeof d.bind !== 'string') throw new Error(`${path}: "bind" must be an address`);
  return { server: where('server'), helper: where('helper'), certs: resolve(dirname(path), d.certs), ...(d.bind ? { bind: d.bind as string } : {}) };
}
