/** Test helpers for src/identity: real openssl, workload certificates, and a loopback mTLS handshake. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type ConnectionOptions, type TlsOptions } from 'node:tls';
import type { CertificateAuthority } from '../certificate-authority.js';
import type { IssuedCertificate } from '../issued-certificate.js';
import { verifiedPeerIdentity } from '../peer-identity.js';
import type { PrivateKeyPem } from '../redacted.js';
import type { ServiceIdentity } from '../service-identity.js';
import { signWorkloadCsr } from '../sign-workload.js';
import { createWorkloadKeyAndCsr } from '../workload-csr.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-identity-'));
let files = 0;

/** Writes `text` to a fresh temp file and returns its path. */
export function tempFile(text: string, name = 'f.pem'): string {
  const path = join(dir, `${files++}-${name}`);
  writeFileSync(path, text);
  return path;
}

/** Runs the real openssl; returns stdout (stderr folded in for `verify`). */
export function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
}

export function opensslText(pem: string): string {
  return openssl(['x509', '-text', '-noout'], pem);
}

export interface Workload {
  identity: ServiceIdentity;
  privateKeyPem: PrivateKeyPem;
  issued: IssuedCertificate;
}

export async function issueWorkload(
  ca: CertificateAuthority,
  identity: ServiceIdentity,
  options: { ttlMs?: number; now?: Date; sans?: string[] } = {},
): Promise<Workload> {
  const { csrPem, privateKeyPem } = await createWorkloadKeyAndCsr(identity);
  const issued = await signWorkloadCsr(ca, csrPem, {
    identity,
    ttlMs: options.ttlMs ?? 3_600_000,
    ...(options.now ? { now: options.now } : {}),
    ...(options.sans ? { sans: options.sans } : {}),
  });
  return { identity, privateKeyPem, issued };
}

export interface HandshakeResult {
  /** the client got the server's reply: the handshake passed on both sides */
  ok: boolean;
  clientError?: Error;
  serverError?: Error;
  /** every error the server reported, in order */
  serverErrors: Error[];
  /** what the server read from the verified client certificate */
  serverSawIdentity?: ServiceIdentity | undefined;
  serverSawAuthorized?: boolean;
  /** the server's `socket.authorizationError` (a permissive listener lets unverified clients through) */
  serverSawAuthorizationError?: string | undefined;
  /** the server's connection handler ran (the handshake passed on its side) */
  serverAccepted: boolean;
}

/** One connection from a client to a fresh server on 127.0.0.1; the server replies with "ok". */
export async function handshake(serverOptions: TlsOptions, clientOptions: ConnectionOptions): Promise<HandshakeResult> {
  const result: HandshakeResult = { ok: false, serverErrors: [], serverAccepted: false };
  const server = createServer(serverOptions, (socket) => {
    result.serverAccepted = true;
    result.serverSawAuthorized = socket.authorized;
    result.serverSawAuthorizationError = socket.authorizationError === undefined ? undefined : String(socket.authorizationError);
    result.serverSawIdentity = verifiedPeerIdentity(socket);
    socket.end('ok');
  });
  server.on('tlsClientError', (e) => {
    result.serverError ??= e;
    result.serverErrors.push(e);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    await new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ...clientOptions });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('error', (e) => {
        result.clientError = e;
      });
      socket.on('close', () => {
        result.ok = data === 'ok' && !result.clientError;
        // Give the server's tlsClientError (which may trail the client's close) a moment to land.
        setTimeout(resolve, 20);
      });
      socket.setTimeout(5000, () => socket.destroy(new Error('handshake timed out')));
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return result;
}
