/**
 * The delivery server sidecars talk to. Routes:
 *   GET  /healthz                       ready once resources are synced
 *   GET  /v1/proxies                    ProxyStatus[] with each proxy's sync state (`tessera status`, `tessera proxy status`)
 *   GET  /metrics                       Prometheus text: convergence time, NACKs, process figures
 *   GET  /v1/proxies/:uuid/stream       Server-Sent Events: `snapshot` events (and `delta` events when the
 *                                       request carries `x-tessera-deltas: 1`), heartbeats every 15 s
 *   POST /v1/proxies/:uuid/ack          {version, ok, error?}
 *   GET  /v1/proxies/:uuid/config       the current snapshot; 304 when If-None-Match matches
 *   POST /v1/proxies/:uuid/csr          {csr} → {certChain, trust}: a certificate for the proxy's identity
 *   GET  /v1/proxies/:uuid/secrets/:plugin/:ns/:svc/:secret   {data}: a Secret a built-in token plugin's
 *                                       PluginConfig names (plugin-secrets.ts says when); never in the snapshot
 * Proxy routes require `Authorization: Bearer <token>`, either a proxy token (layout.ts `proxyToken`:
 * the uuid, an issue time and an expiry under the mesh key, minted by Tessera's own runtimes; the
 * stream pushes `token` events with a renewed one) or, on a Kubernetes cluster, the pod's projected
 * ServiceAccount token for the audience `<mesh>-controller` (sa-tokens.ts: a TokenReview, and the
 * token's pod must be the pod carrying the proxy; the kubelet rotates it, so no `token` events).
 * Served over TLS (`createDeliveryEndpoint`, a certificate of the cluster CA); plain HTTP on the same
 * port answers only /healthz, /v1/proxies and /metrics, the routes the API server's pod proxy reaches
 * (which authenticates and authorizes the caller); none of them carries a secret.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PROXY_TOKEN_RENEW_MS, checkProxyToken, proxyToken } from '../local/layout.js';
import { createDualServer, type DualServer } from '../lib/tls-or-plain.js';
import { serviceCertValidityMs } from '../identity/index.js';
import { isMeshError } from '../lib/errors.js';
import { DELTAS_HEADER, versionedSnapshotJson } from '../snapshot/index.js';
import { snapshotEvent, type Controller } from './controller.js';
import { trustEvent, type MeshIdentity } from './identity.js';
import type { ProxyRegistry } from './registry.js';
import type { ConvergenceTracker } from './convergence.js';
import { pluginSecretFor } from './plugin-secrets.js';
import { looksLikeJwt, tokenPodMismatch, TokenReviewUnavailable, type ServiceAccountTokenReviewer } from './sa-tokens.js';

export interface DeliveryOptions {
  controller: Controller;
  /** undefined until the CA is loaded; CSRs are refused (503) meanwhile */
  identity: () => MeshIdentity | undefined;
  registry: ProxyRegistry;
  /** times each proxy's ACKs against the change that produced the version (GET /metrics) */
  convergence?: ConvergenceTracker;
  meshKey: string;
  /**
   * Kubernetes mode: ServiceAccount tokens are accepted too (checked with TokenReviews). Without it
   * only proxy tokens are (local mode's runtimes mint them).
   */
  serviceAccounts?: ServiceAccountTokenReviewer;
  log: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

/** Plain HTTP only: for tests and embedding behind something else that authenticates the server. */
export function createDeliveryServer(opts: DeliveryOptions): Server {
  const server = createServer((req, res) => handle(opts, req, res, true));
  server.requestTimeout = 0;
  return server;
}

/** The delivery endpoint as the controller serves it: TLS with `tls`, plain HTTP only for health and status. */
export function createDeliveryEndpoint(opts: DeliveryOptions, tls: { cert: string; key: string }): DualServer {
  return createDualServer(tls, (req, res, secure) => handle(opts, req, res, secure), (s) => {
    s.requestTimeout = 0;
    // A sidecar ACKs over a kept-alive connection. With Node's default 5 s, a quiet minute between
    // changes means every proxy's ACK opens a new TLS connection (a thousand handshakes at once),
    // and an ACK sent just as the server closes the idle socket fails ("socket hang up") and waits
    // for its retry. Kept longer, the ACK connection usually survives until the next change.
    s.keepAliveTimeout = 65_000;
    s.headersTimeout = 70_000;
  });
}

function handle(opts: DeliveryOptions, req: IncomingMessage, res: ServerResponse, secure: boolean): void {
  route(opts, req, res, secure).catch((err: Error) => {
    if (!res.headersSent) send(res, 500, { error: err.message });
  });
}

/** The SSE event carrying a renewed proxy token. */
export function tokenEvent(token: string): string {
  return `event: token\ndata: ${JSON.stringify({ token })}\n\n`;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 1024 * 1024) throw new Error('body too large');
    chunks.push(c);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

async function route(opts: DeliveryOptions, req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://control-plane');
  const path = url.pathname;
  if (path === '/healthz') return send(res, opts.controller.ready ? 200 : 503, { ready: opts.controller.ready });
  if (path === '/v1/proxies' && req.method === 'GET') return send(res, 200, opts.registry.status());
  if (path === '/metrics' && req.method === 'GET') {
    if (!opts.convergence) return send(res, 404, { error: 'no metrics on this server' });
    const text = await opts.convergence.metrics();
    res.writeHead(200, { 'content-type': opts.convergence.contentType, 'content-length': Buffer.byteLength(text) }).end(text);
    return;
  }
  const m = /^\/v1\/proxies\/([0-9a-fA-F-]{36})\/(stream|ack|config|csr|secrets\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return send(res, 404, { error: `no route ${req.method} ${path}` });
  // A proxy token travels only over TLS to a server the client verified.
  if (!secure) return send(res, 403, { error: 'proxy routes are served over TLS only: use https:// and the cluster CA' });
  const uuid = m[1]!.toLowerCase();
  const auth = req.headers.authorization ?? '';
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  const check = checkProxyToken(opts.meshKey, uuid, token);
  /** set when the caller proved itself with its pod's ServiceAccount token */
  let serviceAccount: { identity: string; expiresAt?: number } | undefined;
  if (check !== 'valid') {
    if (!opts.serviceAccounts || !looksLikeJwt(token)) return send(res, 401, { error: check === 'expired' ? 'proxy token expired' : 'invalid proxy token' });
    let review;
    try {
      review = await opts.serviceAccounts.review(token);
    } catch (e) {
      // fail closed: no review, no access
      const message = e instanceof TokenReviewUnavailable ? e.message : `cannot review the ServiceAccount token: ${(e as Error).message}`;
      opts.log.warn('ServiceAccount token refused', { proxy: uuid, error: message });
      return send(res, 503, { error: message });
    }
    if (!review.authenticated) {
      opts.log.warn('ServiceAccount token refused', { proxy: uuid, error: review.reason });
      return send(res, 401, { error: `invalid ServiceAccount token: ${review.reason}` });
    }
    const proxyPod = opts.controller.proxyPodObject(uuid);
    if (!proxyPod) return send(res, 404, { error: `no pod carries proxy ${uuid}` });
    const mismatch = tokenPodMismatch(review, uuid, proxyPod);
    if (mismatch) {
      opts.log.warn('ServiceAccount token refused', { proxy: uuid, error: mismatch });
      return send(res, 403, { error: mismatch });
    }
    serviceAccount = { identity: `${review.serviceAccount}.${review.namespace}`, ...(review.expiresAt !== undefined ? { expiresAt: review.expiresAt } : {}) };
  }
  const pod = opts.controller.proxyPod(uuid);
  if (!pod) return send(res, 404, { error: `no pod carries proxy ${uuid}` });

  if (m[2] === 'ack' && req.method === 'POST') {
    const body = (await readJson(req)) as { version?: string; ok?: boolean; error?: string };
    if (typeof body.version !== 'string') return send(res, 400, { error: 'version is required' });
    opts.registry.acknowledge(uuid, body.version, body.ok === true, body.error);
    opts.convergence?.acknowledged(uuid, body.version, body.ok === true);
    if (body.ok !== true) opts.log.warn('proxy rejected snapshot', { proxy: `${pod.namespace}/${pod.name}`, version: body.version, error: body.error });
    return send(res, 200, { ok: true });
  }
  if (m[3] !== undefined && req.method === 'GET') {
    const [plugin, serviceNamespace, serviceName, secretName] = [m[3], m[4]!, m[5]!, m[6]!].map(decodeURIComponent) as [string, string, string, string];
    const answer = pluginSecretFor(opts.controller.resourcesNow(), opts.controller.snapshotFor(uuid)?.snapshot, { plugin, serviceNamespace, serviceName, secretName });
    const proxy = `${pod.namespace}/${pod.name}`;
    if (answer.status !== 200) {
      opts.log.warn('plugin Secret refused', { proxy, plugin, secret: secretName, error: answer.error });
      return send(res, answer.status, { error: answer.error });
    }
    res.setHeader('cache-control', 'no-store');
    return send(res, 200, { data: answer.data });
  }
  if (m[2] === 'csr' && req.method === 'POST') {
    const identity = opts.identity();
    if (!identity) return send(res, 503, { error: 'certificate authority not loaded yet' });
    // a ServiceAccount token's identity is its ServiceAccount (checked above to be the pod's)
    const who = serviceAccount?.identity ?? opts.controller.proxyIdentity(uuid);
    if (!who) return send(res, 404, { error: `no pod carries proxy ${uuid}` });
    const body = (await readJson(req)) as { csr?: unknown };
    if (typeof body.csr !== 'string') return send(res, 400, { error: 'csr (PEM) is required' });
    try {
      const ttl = serviceCertValidityMs(opts.controller.serviceCertValidity ?? '24h');
      const issued = await identity.sign(uuid, body.csr, who, ttl, []);
      opts.log.info('certificate issued', { proxy: `${pod.namespace}/${pod.name}`, identity: who, serial: issued.serialNumber, notAfter: issued.notAfter.toISOString() });
      return send(res, 200, { certChain: issued.chainPem, notAfter: issued.notAfter.toISOString(), trust: identity.trust });
    } catch (e) {
      const message = isMeshError(e) ? e.message : (e as Error).message;
      opts.log.warn('certificate request refused', { proxy: `${pod.namespace}/${pod.name}`, error: message });
      return send(res, 400, { error: message });
    }
  }
  if (m[2] === 'config' && req.method === 'GET') {
    const v = opts.controller.snapshotFor(uuid);
    if (!v) return send(res, 503, { error: 'snapshot not computed yet' });
    if (req.headers['if-none-match'] === `"${v.version}"`) {
      res.writeHead(304, { etag: `"${v.version}"` }).end();
      return;
    }
    const text = versionedSnapshotJson(v);
    res.writeHead(200, { 'content-type': 'application/json', etag: `"${v.version}"`, 'content-length': Buffer.byteLength(text) }).end(text);
    return;
  }
  if (m[2] === 'stream' && req.method === 'GET') {
    const record = opts.registry.upsert(uuid, pod.namespace, pod.name);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': connected\n\n');
    record.connected = true;
    const push = (event: string): void => {
      res.write(event);
    };
    record.push = push;
    record.deltas = req.headers[DELTAS_HEADER] === '1';
    const identity = opts.identity();
    if (identity) push(trustEvent(identity.trust));
    const lastEventId = req.headers['last-event-id'];
    const v = opts.controller.snapshotFor(uuid);
    if (v) {
      opts.registry.markSent(record, v.version);
      if (lastEventId !== v.version) push(snapshotEvent(v));
      else {
        // the sidecar names the version it runs (its Last-Event-ID): as good as its ACK, which
        // may have been lost with the previous connection
        opts.registry.acknowledge(uuid, v.version, true);
        opts.convergence?.acknowledged(uuid, v.version, true);
      }
    }
    // A fresh short-lived token now and then: the sidecar reconnects and calls with the newest.
    // Not for a ServiceAccount token: the kubelet rotates that one in the pod. Its stream ends when
    // the token expires instead, so the sidecar reconnects with the rotated token.
    let renew: NodeJS.Timeout | undefined;
    let expiry: NodeJS.Timeout | undefined;
    if (!serviceAccount) {
      push(tokenEvent(proxyToken(opts.meshKey, uuid)));
      renew = setInterval(() => push(tokenEvent(proxyToken(opts.meshKey, uuid))), PROXY_TOKEN_RENEW_MS);
    } else if (serviceAccount.expiresAt !== undefined) {
      const left = serviceAccount.expiresAt - Date.now();
      // past setTimeout's range (an API server that extends token lifetimes): the stream stays open
      if (left < 2 ** 31 - 1) expiry = setTimeout(() => res.end(), Math.max(0, left));
    }
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
    opts.log.info('proxy connected', { proxy: `${pod.namespace}/${pod.name}`, ...(serviceAccount ? { auth: 'serviceaccount', identity: serviceAccount.identity } : {}) });
    req.on('close', () => {
      clearInterval(heartbeat);
      if (renew) clearInterval(renew);
      if (expiry) clearTimeout(expiry);
      if (record.push === push) {
        record.connected = false;
        delete record.push;
        delete record.deltas;
        opts.log.info('proxy disconnected', { proxy: `${pod.namespace}/${pod.name}` });
      }
    });
    return;
  }
  return send(res, 405, { error: `${req.method} not allowed on ${path}` });
}
