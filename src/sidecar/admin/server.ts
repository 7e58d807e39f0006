/**
 * The admin server (FSM's port 15000): /config_dump (the applied snapshot; it never holds a private
 * key), /certs (the workload certificate: identity, issuer, expiry), /ready, /stats/prometheus and
 * /metrics, /listeners, /clusters, and POST /quitquitquit.
 */
import { createServer, type Server } from 'node:http';
import type { SidecarMetrics } from '../observability/metrics.js';
import type { Runtime } from '../runtime.js';
import type { CertificateInfo } from '../identity/index.js';
import { redactSnapshot } from './redact.js';

export interface AdminDeps {
  runtime: () => Runtime | undefined;
  /** ready to serve: a snapshot applied and, with mTLS on, a workload certificate */
  ready: () => boolean;
  /** the workload certificate (no private key), or undefined */
  certificate: () => CertificateInfo | undefined;
  metrics: SidecarMetrics;
  listeners: () => string[];
  status: () => Record<string, unknown>;
  quit: () => void;
}

export function createAdminServer(deps: AdminDeps): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      const text = JSON.stringify(body, null, 2) + '\n';
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    const text = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
    };
    const rt = deps.runtime();
    switch (path) {
      case '/config_dump': {
        if (!rt) return text(503, 'no configuration applied yet\n');
        // FSM's config.json carries the certificate too; ours shows it without the private key
        const cert = deps.certificate();
        const certificate = cert
          ? { CommonName: cert.commonName, SpiffeID: cert.spiffeId, SerialNumber: cert.serialNumber, Expiration: cert.notAfter, CertChain: cert.certChain, TrustedRoots: cert.trustedRoots }
          : null;
        return json(200, { ...redactSnapshot(rt.snapshot), Certificate: certificate, Version: rt.version });
      }
      case '/certs': {
        const cert = deps.certificate();
        return cert ? json(200, cert) : text(404, 'no workload certificate yet\n');
      }
      case '/ready':
        return deps.ready() ? text(200, 'LIVE\n') : text(503, 'NOT READY\n');
      case '/stats/prometheus':
      case '/metrics':
        void deps.metrics.text().then((m) => text(200, m, deps.metrics.contentType));
        return;
      case '/listeners':
        return json(200, deps.listeners());
      case '/clusters':
        if (!rt) return json(200, {});
        return json(200, Object.fromEntries([...rt.tables.clusters.values()].map((c) => [c.name, c.endpoints])));
      case '/status':
        return json(200, deps.status());
      case '/quitquitquit':
        if (req.method !== 'POST') return text(405, 'POST only\n');
        text(200, 'OK\n');
        deps.quit();
        return;
      default:
        return text(404, 'not found\n');
    }
  });
}
