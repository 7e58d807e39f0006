/**
 * The tessera-sts process (image `tessera/sts`). Configuration by environment:
 *   HOST, PORT                  where to listen (the local runtime sets them)
 *   STS_ISSUER                  `iss` and the base of every URL (default http://tessera-sts.<namespace>:<PORT>)
 *   STS_ALG                     RS256 (default) or ES256
 *   STS_TOKEN_LIFETIME          seconds (default 300)
 *   STS_ROTATE_EVERY            seconds between signing-key rotations (default 3600)
 *   STS_CLIENTS / STS_CLIENTS_FILE   JSON {"client-id": {"secret": "…", "audiences": ["…"]}} for callers outside the mesh
 *   STS_TRUSTED_ISSUERS         JSON {"issuer": "jwksUri"}: other issuers whose tokens may be exchanged
 *   STS_POLICY / STS_POLICY_FILE     JSON {"issue": [{"callers": [...], "audiences": [...]}],
 *                               "exchange": [{"actors": [...], "subjects": [...], "audiences": [...]}]}: what may
 *                               be issued (policy.ts); nothing without it but a client's own `audiences`
 *   STS_SIDECAR_ADDRESSES       comma list of addresses whose `serviceidentity` header is believed on plain
 *                               connections (default POD_IP; none when STS_TLS_CERT_FILE is set). A source
 *                               address is not an identity where other processes can bind it (loopback mode).
 *   STS_TLS_CERT_FILE, STS_TLS_KEY_FILE, STS_CLIENT_CA_FILE
 *                               serve TLS and authenticate workloads by client certificates of the mesh CA
 *                               (e.g. an AccessCert Secret's tls.crt, tls.key, ca.crt mounted in the pod)
 *   STS_SIDECAR_IDENTITIES      comma list of identities (`sa.ns`) whose certificate may vouch for a caller
 *                               with `serviceidentity` (the pod's own sidecar)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KeyRing, type StsAlgorithm } from './keys.js';
import { parseStsPolicy, StsPolicyError } from './policy.js';
import { createStsServer, type StsClient } from './server.js';

const env = process.env;
const log = (msg: string, fields?: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg, ...fields }) + '\n');
};
function die(message: string): never {
  process.stderr.write(`tessera-sts: ${message}\n`);
  process.exit(2);
}
function seconds(name: string, fallback: number): number {
  const v = env[name] === undefined ? fallback : Number(env[name]);
  if (!Number.isInteger(v) || v <= 0) die(`${name} must be a positive whole number of seconds`);
  return v;
}
function json(name: string, text: string | undefined): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  die(`${name} must be a JSON object`);
}

const port = Number(env['PORT'] ?? 8080);
const host = env['HOST'] ?? '127.0.0.1';
const issuer = (env['STS_ISSUER'] ?? `http://tessera-sts.${env['POD_NAMESPACE'] ?? 'default'}:${port}`).replace(/\/+$/, '');
const alg = (env['STS_ALG'] ?? 'RS256') as StsAlgorithm;
if (alg !== 'RS256' && alg !== 'ES256') die('STS_ALG must be RS256 or ES256');
const lifetimeSeconds = seconds('STS_TOKEN_LIFETIME', 300);

const clients = new Map<string, StsClient>();
const rawClients = json('STS_CLIENTS', env['STS_CLIENTS_FILE'] ? readFileSync(env['STS_CLIENTS_FILE'], 'utf8') : env['STS_CLIENTS']);
for (const [id, c] of Object.entries(rawClients)) {
  const secret = (c as { secret?: unknown }).secret;
  const audiences = (c as { audiences?: unknown }).audiences;
  if (typeof secret !== 'string' || secret.length < 16) die(`client ${id}: secret must be a string of at least 16 characters`);
  if (audiences !== undefined && !(Array.isArray(audiences) && audiences.every((a) => typeof a === 'string'))) die(`client ${id}: audiences must be a list of strings`);
  clients.set(id, { secretSha256: createHash('sha256').update(secret).digest(), ...(audiences ? { audiences: audiences as string[] } : {}) });
}
const trustedIssuers = json('STS_TRUSTED_ISSUERS', env['STS_TRUSTED_ISSUERS']) as Record<string, string>;
const policyText = env['STS_POLICY_FILE'] ? readFileSync(env['STS_POLICY_FILE'], 'utf8') : env['STS_POLICY'];
let policy;
try {
  policy = parseStsPolicy(policyText ? json(env['STS_POLICY_FILE'] ? 'STS_POLICY_FILE' : 'STS_POLICY', policyText) : undefined);
} catch (e) {
  if (e instanceof StsPolicyError) die(`${env['STS_POLICY_FILE'] ? `STS_POLICY_FILE (${env['STS_POLICY_FILE']})` : 'STS_POLICY'}: ${e.message}`);
  throw e;
}
const list = (text: string | undefined): string[] => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const tlsFiles = [env['STS_TLS_CERT_FILE'], env['STS_TLS_KEY_FILE'], env['STS_CLIENT_CA_FILE']];
if (tlsFiles.some(Boolean) && !tlsFiles.every(Boolean)) die('STS_TLS_CERT_FILE, STS_TLS_KEY_FILE and STS_CLIENT_CA_FILE go together');
const tls = tlsFiles.every(Boolean)
  ? { cert: readFileSync(tlsFiles[0]!, 'utf8'), key: readFileSync(tlsFiles[1]!, 'utf8'), clientCa: readFileSync(tlsFiles[2]!, 'utf8') }
  : undefined;
const sidecarAddresses = new Set(list(env['STS_SIDECAR_ADDRESSES'] ?? (tls ? '' : env['POD_IP'])));
const sidecarIdentities = new Set(list(env['STS_SIDECAR_IDENTITIES']));

const keys = new KeyRing({ alg, rotateEveryMs: seconds('STS_ROTATE_EVERY', 3600) * 1000, maxTokenLifetimeMs: lifetimeSeconds * 1000 });
const server = createStsServer({ issuer, lifetimeSeconds, keys, trustedIssuers, clients, policy, sidecarAddresses, sidecarIdentities, log, ...(tls ? { tls } : {}) });
server.listen(port, host, () => log('tessera-sts listening', {
  address: `${host}:${port}`, issuer, alg, clients: clients.size, mtls: tls !== undefined, trustedSourceAddresses: [...sidecarAddresses],
  grants: { issue: policy.issue.length, exchange: policy.exchange.length },
}));

const shutdown = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
