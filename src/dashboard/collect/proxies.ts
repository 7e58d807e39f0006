/**
 * A proxy's row: its sync state as the control plane sees it (src/control-plane syncStateOf, as
 * `istioctl proxy-status` names them), and what its own admin server says: chains per mount point
 * from /config_dump, certificates from /certs (the chain it presents; no private key ever leaves it).
 */
import { X509Certificate } from 'node:crypto';
import { syncStateOf } from '../../control-plane/index.js';
import type { ProxyStatus } from '../../local/api-contract.js';
import type { CertificateView, ProxyView } from '../model.js';

export interface AdminFacts {
  /** /config_dump parsed, when it answered */
  configDump?: unknown;
  /** /certs parsed, when it answered */
  certs?: unknown;
}

const DAY_MS = 86_400_000;

export function chainsOf(configDump: unknown): ProxyView['chains'] {
  const chains = (configDump as { Chains?: unknown } | undefined)?.Chains;
  if (typeof chains !== 'object' || chains === null) return [];
  return Object.entries(chains as Record<string, unknown>)
    .filter(([, v]) => Array.isArray(v))
    .map(([mount, v]) => ({ mount, plugins: (v as unknown[]).map(String) }));
}

/** The certificates of a PEM chain: the first is the workload's, the rest the CAs that issued it. */
export function certificatesOf(certs: unknown, nowMs: number): CertificateView[] {
  const chain = (certs as { certChain?: unknown } | undefined)?.certChain;
  if (typeof chain !== 'string') return [];
  const pems = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: CertificateView[] = [];
  pems.forEach((pem, i) => {
    let x: X509Certificate;
    try {
      x = new X509Certificate(pem);
    } catch {
      return;
    }
    const notAfter = new Date(x.validTo).toISOString();
    out.push({
      role: i === 0 ? 'workload identity' : 'issuing CA',
      subject: x.subject.replace(/\n/g, ', '),
      sans: (x.subjectAltName ?? '').split(', ').filter(Boolean),
      serialNumber: x.serialNumber,
      notBefore: new Date(x.validFrom).toISOString(),
      notAfter,
      // one decimal: workload certificates live a day, so whole days would say 0 all their life
      daysLeft: Math.floor(((Date.parse(notAfter) - nowMs) / DAY_MS) * 10) / 10,
    });
  });
  return out;
}

export function proxyViewOf(p: ProxyStatus, admin: AdminFacts, nowMs: number): ProxyView {
  const v: ProxyView = {
    namespace: p.namespace, pod: p.pod, uuid: p.uuid, connected: p.connected, sync: syncStateOf(p, nowMs),
    chains: chainsOf(admin.configDump), certificates: certificatesOf(admin.certs, nowMs),
  };
  if (p.sentVersion) v.sentVersion = p.sentVersion;
  if (p.appliedVersion) v.appliedVersion = p.appliedVersion;
  if (p.ackedAt) v.lastAck = p.ackedAt;
  if (p.lastError) v.lastError = p.lastError;
  return v;
}
