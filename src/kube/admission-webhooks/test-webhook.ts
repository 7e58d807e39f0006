/**
 * A real HTTPS admission webhook for tests: a CA and a serving certificate (node:crypto keys signed
 * with @peculiar/x509 through src/identity) for 127.0.0.1, and a handler per test deciding each
 * AdmissionReview's response. Every review received is kept.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRootCa, type CertificateAuthority } from '../../identity/certificate-authority.js';
import { exportPrivateKeyPem, generateKeyPair } from '../../identity/keys.js';
import { signLeaf } from '../../identity/sign-certificate.js';
import { subtle, x509 } from '../../identity/x509-runtime.js';

export interface Review {
  apiVersion: string;
  kind: string;
  request: Record<string, any>;
}

export type Respond = (review: Review) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface TestWebhook {
  url: (path?: string) => string;
  /** base64 PEM of the CA that issued the serving certificate */
  caBundle: string;
  reviews: Review[];
  respond: Respond;
  close(): Promise<void>;
}

export async function testCa(name = 'webhook-test'): Promise<CertificateAuthority> {
  return createRootCa({ meshName: name, keyAlgorithm: 'ECDSA-P256' });
}

export async function servingCert(ca: CertificateAuthority, names: { dns?: string[]; ips?: string[] }): Promise<{ cert: string; key: string }> {
  const keys = await generateKeyPair('ECDSA-P256');
  const issued = await signLeaf(ca, {
    commonName: names.dns?.[0] ?? names.ips?.[0] ?? 'webhook',
    sans: [...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(names.ips ?? []).map((value) => ({ type: 'ip' as const, value }))],
    extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth],
    publicKey: new x509.PublicKey(await subtle.exportKey('spki', keys.publicKey)),
    ttlMs: 3600_000,
    now: new Date(),
  });
  return { cert: issued.certificatePem, key: await exportPrivateKeyPem(keys.privateKey) };
}

/** Allows everything unless `respond` is replaced. */
export async function startTestWebhook(opts: { ca?: CertificateAuthority; names?: { dns?: string[]; ips?: string[] } } = {}): Promise<TestWebhook> {
  const ca = opts.ca ?? (await testCa());
  const { cert, key } = await servingCert(ca, opts.names ?? { ips: ['127.0.0.1'] });
  let port = 0;
  const hook: TestWebhook = {
    url: (path = '/admit') => `https://127.0.0.1:${port}${path}`,
    caBundle: Buffer.from(ca.certificatePem).toString('base64'),
    reviews: [],
    respond: (r) => ({ uid: r.request.uid, allowed: true }),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Review;
      review.request.path = req.url;
      hook.reviews.push(review);
      const response = await hook.respond(review);
      if (res.destroyed) return;
      const body = JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  return hook;
}

/** A JSON patch as a webhook returns it (base64). */
export function patchOf(ops: object[]): { patchType: 'JSONPatch'; patch: string } {
  return { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
}
