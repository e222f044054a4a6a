/**
 * Offline certificates for a three-party deployment: a deployment CA and one certificate per party
 * (ECDSA P-256, X.509 v3), built with node:crypto and a small DER encoder, so no OpenSSL or network is
 * needed. The party's role is the certificate's common name; links check it (a party cannot claim
 * another's role). Validity: 10 years for the CA, 2 years for parties (configurable), starting one hour
 * in the past to tolerate clock skew.
 * @module
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** A certificate and its private key, PEM encoded. Keep `key` secret; never log it. */
export interface CertPair {
  cert: string;
  key: string;
}

// --- minimal DER ---------------------------------------------------------------------------------

function len(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function cat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const tlv = (tag: number, ...value: Uint8Array[]): Uint8Array => {
  const v = cat(value);
  return cat([Uint8Array.of(tag), len(v.length), v]);
};
const seq = (...items: Uint8Array[]): Uint8Array => tlv(0x30, ...items);
const set = (...items: Uint8Array[]): Uint8Array => tlv(0x31, ...items);
const utf8 = (s: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(s));
const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
const bits = (b: Uint8Array, unused = 0): Uint8Array => tlv(0x03, Uint8Array.of(unused), b);
const bool = (v: boolean): Uint8Array => tlv(0x01, Uint8Array.of(v ? 0xff : 0));
const explicit = (n: number, v: Uint8Array): Uint8Array => tlv(0xa0 | n, v);

function uint(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? cat([Uint8Array.of(0), v]) : v);
}

function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const a of arcs.slice(2)) {
    const chunk = [a & 0x7f];
    for (let v = Math.floor(a / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

function time(d: Date): Uint8Array {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050 ? tlv(0x17, new TextEncoder().encode(iso.slice(2))) : tlv(0x18, new TextEncoder().encode(iso));
}

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  cn: '2.5.4.3',
  org: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

const name = (cn: string, org: string): Uint8Array => seq(set(seq(oid(OID.org), utf8(org))), set(seq(oid(OID.cn), utf8(cn))));
const ext = (id: string, critical: boolean, value: Uint8Array): Uint8Array =>
  critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/** Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
function keyId(spkiDer: Uint8Array): Uint8Array {
  // The BIT STRING is the last element of the SPKI sequence; for P-256 it is the final 66 bytes (03 42 00 ...).
  return new Uint8Array(createHash('sha1').update(spkiDer.subarray(spkiDer.length - 65)).digest());
}

function san(hosts: readonly string[]): Uint8Array {
  const names = hosts.map((h) => {
    if (isIPv4(h)) return tlv(0x87, Uint8Array.from(h.split('.').map(Number)));
    if (isIPv6(h)) return tlv(0x87, ipv6Bytes(h));
    return tlv(0x82, new TextEncoder().encode(h));
  });
  return seq(...names);
}

function ipv6Bytes(h: string): Uint8Array {
  const [head, tail] = h.split('::') as [string, string | undefined];
  const a = head ? head.split(':') : [];
  const b = tail ? tail.split(':') : [];
  const groups = tail === undefined ? a : [...a, ...new Array(8 - a.length - b.length).fill('0'), ...b];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

interface Build {
  subject: string;
  issuer: string;
  org: string;
  subjectKey: KeyObject;
  signer: KeyObject;
  issuerSpki: Uint8Array;
  ca: boolean;
  hosts: readonly string[];
  days: number;
  from?: Date;
}

function build(b: Build): string {
  const now = Date.now();
  const notBefore = b.from ?? new Date(now - 3600_000);
  const notAfter = new Date(notBefore.getTime() + 3600_000 + b.days * 86_400_000);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const subjectSpki = spki(b.subjectKey);
  const exts = [
    // A CA that may sign party certificates only (path length 0: no intermediate CAs below it).
    ext(OID.basicConstraints, true, b.ca ? seq(bool(true), uint(Uint8Array.of(0))) : seq()),
    // CA: keyCertSign | cRLSign; party: digitalSignature.
    ext(OID.keyUsage, true, b.ca ? bits(Uint8Array.of(0x06), 1) : bits(Uint8Array.of(0x80), 7)),
    ext(OID.subjectKeyId, false, octets(keyId(subjectSpki))),
    ext(OID.authorityKeyId, false, seq(tlv(0x80, keyId(b.issuerSpki)))),
  ];
  if (!b.ca) {
    exts.push(ext(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))));
    if (b.hosts.length > 0) exts.push(ext(OID.subjectAltName, false, san(b.hosts)));
  }
  const alg = seq(oid(OID.ecdsaSha256));
  const tbs = seq(
    explicit(0, uint(Uint8Array.of(2))),
    uint(serial),
    alg,
    name(b.issuer, b.org),
    seq(time(notBefore), time(notAfter)),
    name(b.subject, b.org),
    subjectSpki,
    explicit(3, seq(...exts)),
  );
  const sig = new Uint8Array(sign('sha256', tbs, { key: b.signer, dsaEncoding: 'der' }));
  return pem('CERTIFICATE', seq(tbs, alg, bits(sig)));
}

function ecKey(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function checkDays(days: number, title: string): number {
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new RangeError(`"${title}" expected an integer number of days in [1, 36500], got ${days}`);
  return days;
}

/**
 * Creates a self-signed deployment CA.
 * @param opts.name - the CA's common name (default 'si deployment CA')
 * @param opts.days - validity in days (default 3650)
 */
export function createCA(opts: { name?: string; days?: number } = {}): CertPair {
  const { publicKey, privateKey } = ecKey();
  const cn = opts.name ?? 'si deployment CA';
  const cert = build({
    subject: cn, issuer: cn, org: 'si', subjectKey: publicKey, signer: privateKey, issuerSpki: spki(publicKey),
    ca: true, hosts: [], days: checkDays(opts.days ?? 3650, 'days'),
  });
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/**
 * Issues a party certificate signed by the CA. The role (e.g. 'client', 'server', 'helper') becomes the
 * common name, which links check against the role they expect on the other side.
 * @param opts.hosts - DNS names / IP addresses for the subjectAltName (default localhost and 127.0.0.1)
 * @param opts.days - validity in days (default 730)
 * @param opts.validFrom - start of validity (default: an hour ago, for clock skew); an earlier date gives
 *   an already expired certificate, which is how expiry handling is tested
 */
export function issueCert(ca: CertPair, opts: { role: string; hosts?: readonly string[]; days?: number; validFrom?: Date }): CertPair {
  if (typeof opts.role !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(opts.role))
    throw new RangeError(`"role" expected 1..64 characters [A-Za-z0-9_.-], got ${JSON.stringify(opts.role)}`);
  const caCert = new X509Certificate(ca.cert);
  const caKey = createPrivateKey(ca.key);
  const { publicKey, privateKey } = ecKey();
  const cert = build({
    subject: opts.role, issuer: caCert.subject.match(/CN=([^\n]*)/)?.[1] ?? 'si deployment CA', org: 'si',
    subjectKey: publicKey, signer: caKey, issuerSpki: spki(caCert.publicKey), ca: false,
    hosts: opts.hosts ?? ['localhost', '127.0.0.1', '::1'], days: checkDays(opts.days ?? 730, 'days'), from: opts.validFrom,
  });
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** Common name of a certificate (PEM). */
export function certRole(certPem: string): string | undefined {
  return new X509Certificate(certPem).subject.match(/CN=([^\n]*)/)?.[1];
}
