/**
 * The local cluster's PKI, as kubeadm lays it out for a cluster: a CA that signs the API server's
 * serving certificate and client certificates (CN = user, O = groups). It is the cluster's CA, not
 * the mesh's workload CA: the seeds rotate the mesh root by deleting `<mesh>-ca-bundle`, which must
 * not invalidate every kubeconfig. Keys are files of mode 0600 in `<state>/pki/` (a 0700 folder).
 */
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem } from '../../identity/keys.js';
import { randomSerialHex } from '../../identity/serial.js';
import { x509, type WebCryptoKey } from '../../identity/x509-runtime.js';

const CA_YEARS = 10;
const LEAF_DAYS = 365;
const BACKDATE_MS = 60_000;
/** Renew a leaf at `up` when less than this is left. */
const RENEW_BEFORE_MS = 30 * 24 * 3_600_000;

export interface PemPair {
  cert: string;
  key: string;
}

export interface ClusterPki {
  ca: PemPair;
  /** the API server's serving certificate */
  server: PemPair;
  /** the admin user's client certificate (CN tessera-admin, O system:masters) */
  admin: PemPair;
  dir: string;
}

export const ADMIN_USER = 'tessera-admin';
export const ADMIN_GROUP = 'system:masters';

export function pkiDir(stateDir: string): string {
  return join(stateDir, 'pki');
}

/** A 0600 file, written whole or not at all. */
function writePrivate(file: string, text: string): void {
  writeFileAtomic(file, text, 0o600);
}

function readPair(dir: string, name: string): PemPair | undefined {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

function writePair(dir: string, name: string, pair: PemPair): void {
  writePrivate(join(dir, `${name}.key`), pair.key);
  writePrivate(join(dir, `${name}.crt`), pair.cert);
}

async function createCa(commonName: string): Promise<PemPair> {
  const keys = await generateKeyPair('ECDSA-P256');
  const now = Date.now();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: `${cert.toString('pem')}\n`, key: await exportPrivateKeyPem(keys.privateKey) };
}

export interface LeafRequest {
  commonName: string;
  organizations?: string[];
  /** DNS names and IP addresses of a serving certificate */
  hosts?: string[];
  usage: 'server' | 'client';
}

/** Signs a leaf with the cluster CA. */
export async function signClusterLeaf(ca: PemPair, req: LeafRequest): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey: WebCryptoKey = (await importPrivateKeyPem(ca.key)).key;
  const keys = await generateKeyPair('ECDSA-P256');
  const now = Date.now();
  const name: x509.JsonName = [...(req.organizations ?? []).map((o) => ({ O: [o] })), { CN: [req.commonName] }];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([req.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (req.hosts && req.hosts.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(req.hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h })), false));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: name,
    issuer: caCert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(Math.min(now + LEAF_DAYS * 86_400_000, caCert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  return { cert: `${cert.toString('pem')}\n`, key: await exportPrivateKeyPem(keys.privateKey) };
}

function stillGood(pair: PemPair | undefined, ca: PemPair, hosts: string[] = []): pair is PemPair {
  if (!pair) return false;
  try {
    const cert = new X509Certificate(pair.cert);
    if (!cert.checkIssued(new X509Certificate(ca.cert)) || !cert.verify(new X509Certificate(ca.cert).publicKey)) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    createPrivateKey(pair.key);
    return hosts.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
  } catch {
    return false;
  }
}

/**
 * Loads the cluster PKI of a state directory, creating what is missing or about to expire: the CA
 * once, the serving certificate for `hosts` whenever the API address changes.
 */
export async function ensureClusterPki(stateDir: string, meshName: string, hosts: string[]): Promise<ClusterPki> {
  const dir = pkiDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  let ca = readPair(dir, 'ca');
  if (!ca) {
    ca = await createCa(`${meshName}-cluster-ca`);
    writePair(dir, 'ca', ca);
  }
  let server = readPair(dir, 'apiserver');
  if (!stillGood(server, ca, hosts)) {
    server = await signClusterLeaf(ca, { commonName: 'kube-apiserver', hosts, usage: 'server' });
    writePair(dir, 'apiserver', server);
  }
  let admin = readPair(dir, 'admin');
  if (!stillGood(admin, ca)) {
    admin = await signClusterLeaf(ca, { commonName: ADMIN_USER, organizations: [ADMIN_GROUP], usage: 'client' });
    writePair(dir, 'admin', admin);
  }
  return { ca, server, admin, dir };
}

export interface ServingCertificateFiles {
  certFile: string;
  keyFile: string;
  /** the cluster CA clients verify the certificate against */
  caFile: string;
}

/**
 * A serving certificate of the cluster CA for a control-plane component (`controller`, `injector`)
 * at `hosts`, kept in `<state>/pki/NAME.crt|key` (0600) and renewed when the hosts change or it is
 * about to expire. Clients that trust only the cluster CA then refuse any other process that binds
 * the component's address first.
 */
export async function issueServingCertificate(stateDir: string, name: string, hosts: string[]): Promise<ServingCertificateFiles> {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || ['ca', 'apiserver', 'admin'].includes(name)) throw new Error(`invalid serving certificate name "${name}"`);
  const dir = pkiDir(stateDir);
  const ca = readPair(dir, 'ca');
  if (!ca) throw new Error(`${dir} has no cluster CA yet: ensureClusterPki first`);
  let pair = readPair(dir, name);
  if (!stillGood(pair, ca, hosts)) {
    pair = await signClusterLeaf(ca, { commonName: name, hosts, usage: 'server' });
    writePair(dir, name, pair);
  }
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`), caFile: join(dir, 'ca.crt') };
}

/** The user and groups a verified client certificate names, as kube-apiserver reads them. */
export function userOfCertificate(cert: { subject?: Record<string, string | string[]> } | undefined): { username: string; groups: string[] } | undefined {
  const subject = cert?.subject;
  if (!subject) return undefined;
  const cn = Array.isArray(subject.CN) ? subject.CN[0] : subject.CN;
  if (!cn) return undefined;
  const o = subject.O === undefined ? [] : Array.isArray(subject.O) ? subject.O : [subject.O];
  return { username: cn, groups: [...o, 'system:authenticated'] };
}
