/**
 * The admin server (FSM's port 15000): /config_dump (the applied snapshot; it never holds a private
 * key), /certs (the workload certificate: identity, issuer, expiry), /ready, /stats (Envoy-style
 * counters, `?filter=REGEX`), /stats/prometheus and /metrics, /listeners, /clusters, and POST /quitquitquit.
 *
 * Every state-changing endpoint (POST /quitquitquit) requires `Authorization: Bearer <admin token>`,
 * a token only the runtime and the daemon hold (layout.ts `sidecarAdminToken`, handed over as
 * TESSERA_ADMIN_TOKEN); without a configured token they are refused outright. Any local process can
 * connect to the admin port, so its address proves nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { SIDECAR_ENV } from '../../local/layout.js';
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
  /** bearer token for state-changing endpoints; default: TESSERA_ADMIN_TOKEN; none configured: refused */
  adminToken?: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** 'ok', or why the caller may not change state. */
export function adminAuthorized(req: IncomingMessage, token: string | undefined): 'ok' | 'no-token-configured' | 'unauthorized' {
  if (!token) return 'no-token-configured';
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m && timingSafeEqual(digest(m[1]!), digest(token)) ? 'ok' : 'unauthorized';
}

export function createAdminServer(deps: AdminDeps): Server {
  const adminToken = deps.adminToken ?? process.env[SIDECAR_ENV.adminToken];
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
      case '/stats': {
        const raw = new URL(req.url ?? '/', 'http://admin').searchParams.get('filter');
        let filter: RegExp | undefined;
        try {
          filter = raw ? new RegExp(raw) : undefined;
        } catch (e) {
          return text(400, `filter: invalid regular expression: ${(e as Error).message}\n`);
        }
        return text(200, deps.metrics.statsText(filter));
      }
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
      case '/quitquitquit': {
        if (req.method !== 'POST') return text(405, 'POST only\n');
        const auth = adminAuthorized(req, adminToken);
        if (auth === 'no-token-configured') return text(403, 'state-changing admin endpoints are disabled: no admin token is configured\n');
        if (auth !== 'ok') {
          res.setHeader('www-authenticate', 'Bearer realm="tessera-sidecar-admin"');
          return text(401, 'admin token required\n');
        }
        text(200, 'OK\n');
        deps.quit();
        return;
      }
      default:
        return text(404, 'not found\n');
    }
  });
}
