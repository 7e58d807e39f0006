/**
 * The kubelet API's serving certificate. Either files given on the command line (`--tls-cert-file`,
 * `--tls-private-key-file`), or — as a kubelet with `serverTLSBootstrap: true` — a
 * CertificateSigningRequest to the `kubernetes.io/kubelet-serving` signer: subject
 * `system:node:<name>` in `system:nodes`, the node's addresses as SANs, usages digital signature and
 * server auth. Someone with the right approves it (`kubectl certificate approve`), the
 * controller-manager's signer issues it, and the API server verifies it against its
 * `--kubelet-certificate-authority`. The key never leaves the node (kept 0600 in the root directory).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { x509 } from '../identity/x509-runtime.js';
import type { NodeApi } from './api.js';

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Renew (request anew at start) when less than this much validity is left. */
const RENEW_BEFORE_MS = 60 * 60_000;

export interface ServingCert {
  certPem: string;
  keyPem: string;
}

interface CsrObject {
  metadata: { name: string };
  status?: { certificate?: string; conditions?: { type: string; status?: string; reason?: string; message?: string }[] };
}

/** A certificate we wrote before, still valid for a while and naming the address: reused. */
function reusable(dir: string, address: string): ServingCert | undefined {
  const certFile = join(dir, 'kubelet-server.crt');
  const keyFile = join(dir, 'kubelet-server.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  try {
    const certPem = readFileSync(certFile, 'utf8');
    const cert = new X509Certificate(certPem);
    const names = isIP(address) ? cert.checkIP(address) : cert.checkHost(address);
    if (!names || Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return undefined;
    return { certPem, keyPem: readFileSync(keyFile, 'utf8') };
  } catch {
    return undefined;
  }
}

/**
 * Requests a serving certificate through the certificates API and waits (bounded by `timeoutMs`)
 * until it is approved and issued. `onPending` hears the CSR's name once, for the operator.
 */
export async function bootstrapServingCert(opts: {
  api: NodeApi;
  nodeName: string;
  address: string;
  dir: string;
  timeoutMs: number;
  onPending: (csrName: string) => void;
}): Promise<ServingCert> {
  const again = reusable(opts.dir, opts.address);
  if (again) return again;
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  const sans = [
    ...(isIP(opts.address) ? [{ type: 'ip' as const, value: opts.address }] : [{ type: 'dns' as const, value: opts.address }]),
    { type: 'dns' as const, value: opts.nodeName },
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ O: ['system:nodes'] }, { CN: [`system:node:${opts.nodeName}`] }],
    keys,
    signingAlgorithm: SIGN,
    extensions: [new x509.SubjectAlternativeNameExtension(sans)],
  });
  const request = Buffer.from(csr.toString('pem') + '\n').toString('base64');
  const created = await opts.api.must<CsrObject>('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
    metadata: { generateName: `csr-${opts.nodeName}-` },
    spec: { request, signerName: KUBELET_SERVING_SIGNER, usages: ['digital signature', 'server auth'] },
  });
  const name = created.metadata.name;
  opts.onPending(name);
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const got = await opts.api.must<CsrObject>('GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${encodeURIComponent(name)}`);
    const refused = got.status?.conditions?.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False');
    if (refused) throw new Error(`serving certificate request ${name} was ${refused.type.toLowerCase()}: ${refused.reason ?? ''} ${refused.message ?? ''}`.trim());
    if (got.status?.certificate) {
      const certPem = Buffer.from(got.status.certificate, 'base64').toString('utf8');
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
      writeFileSync(join(opts.dir, 'kubelet-server.key'), keyPem, { mode: 0o600 });
      writeFileSync(join(opts.dir, 'kubelet-server.crt'), certPem, { mode: 0o644 });
      return { certPem, keyPem };
    }
    if (Date.now() > deadline) {
      throw new Error(`serving certificate request ${name} was not approved and issued within ${Math.round(opts.timeoutMs / 1000)} s (kubectl certificate approve ${name})`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
