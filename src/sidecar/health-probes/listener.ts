/**
 * The sidecar's probe ports. The injector rewrote the app's probes to them because the kubelet's
 * probe, sent to the app's port on the pod IP, would be intercepted into the inbound proxy and
 * refused there (no client certificate); these ports are left out of interception.
 *
 *  * 15901–15903 (liveness, readiness, startup): the probe is sent on to its original target on the
 *    app's address — same method, path and scheme — and the app's status comes back. HTTPS targets
 *    are not verified, as the kubelet does not verify them either.
 *  * 15904 `/fsm-healthcheck`: a TCP connect to the port in the `Original-Tcp-Port` header, 200 when
 *    it connects and 404 when it does not (FSM's fsm-healthcheck answers the same way).
 *
 * Targets come only from the injected probe list (config.ts), never from the request: a peer that
 * reaches these ports cannot make the sidecar call another path, and the TCP check connects only to
 * ports a TCP probe names.
 */
import { request as httpRequest, createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { listenOn } from '../../lib/listen-retry.js';
import { HEALTHCHECK_PATH, HEALTHCHECK_PORT, ORIGINAL_TCP_PORT_HEADER, type RewrittenProbe } from './config.js';

export interface HealthProbeListenerOptions {
  probes: readonly RewrittenProbe[];
  /** where the app listens (the sidecar's TESSERA_LOCAL_IP): probes go on to here */
  appAddress: string;
  /** where the kubelet's probes arrive: 0.0.0.0 in a pod's own network namespace, else the app's address */
  bindAddress: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are not passed on in either direction.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function answer(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/** The ports this probe list needs a listener on. */
export function probeListenPorts(probes: readonly RewrittenProbe[]): number[] {
  return [...new Set(probes.map((p) => p.port))].sort((a, b) => a - b);
}

export class HealthProbeListeners {
  readonly #opts: HealthProbeListenerOptions;
  readonly #servers = new Map<number, Server>();

  constructor(opts: HealthProbeListenerOptions) {
    this.#opts = opts;
  }

  /** where the probes arrive */
  get bindAddress(): string {
    return this.#opts.bindAddress;
  }

  /** where they go on to */
  get appAddress(): string {
    return this.#opts.appAddress;
  }

  /** `address:port` of each listener, once started. */
  get listening(): string[] {
    return [...this.#servers.keys()].map((port) => `${this.#opts.bindAddress}:${port}`);
  }

  /** Listens on every port a probe uses; rejects (after closing what it opened) if one cannot be had. */
  async start(): Promise<void> {
    try {
      for (const port of probeListenPorts(this.#opts.probes)) {
        const server = createServer((req, res) => this.#handle(port, req, res));
        await listenOn(server, this.#opts.bindAddress, port);
        this.#servers.set(port, server);
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    const servers = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    })));
  }

  #handle(port: number, req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://probe').pathname;
    if (port === HEALTHCHECK_PORT && path === HEALTHCHECK_PATH) return this.#tcpCheck(req, res);
    const probe = this.#opts.probes.find((p) => p.port === port && p.path === path && p.target.scheme !== 'TCP');
    if (!probe) return answer(res, 404, `no probe at :${port}${path}`);
    this.#forward(port, probe, req, res);
  }

  /** FSM's fsm-healthcheck: 400 without the header, 200 when the port accepts a connection, 404 when not. */
  #tcpCheck(req: IncomingMessage, res: ServerResponse): void {
    const header = req.headers[ORIGINAL_TCP_PORT_HEADER.toLowerCase()];
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || value === '') return answer(res, 400, `Header ${ORIGINAL_TCP_PORT_HEADER} not found in request`);
    const port = Number(value);
    const probes = this.#opts.probes.filter((p) => p.target.scheme === 'TCP' && p.target.port === port);
    if (probes.length === 0) return answer(res, 403, `port ${value} is not the target of a TCP probe of this pod`);
    const address = `${this.#opts.appAddress}:${port}`;
    const timeoutMs = Math.max(...probes.map((p) => p.timeoutSeconds)) * 1000;
    const socket = connect({ host: this.#opts.appAddress, port });
    const done = (status: number, message: string): void => {
      socket.destroy();
      answer(res, status, message);
    };
    socket.setTimeout(timeoutMs, () => done(404, `Failed to establish connection to ${address}: no answer in ${timeoutMs} ms`));
    socket.once('connect', () => done(200, `Successfully established connection to ${address}`));
    socket.once('error', (e) => done(404, `Failed to establish connection to ${address}: ${e.message}`));
  }

  /** The probe on to its original target; the target's status (and body) back. */
  #forward(port: number, probe: RewrittenProbe, req: IncomingMessage, res: ServerResponse): void {
    const target = probe.target as Extract<RewrittenProbe['target'], { path: string }>;
    const headers = forwardable(req.headers);
    // The kubelet's default Host names the address it probed: make it the app's port again, as the
    // original probe had it. A Host the probe sets itself (httpHeaders) is passed on unchanged.
    const host = headers['host'];
    if (typeof host === 'string' && host.endsWith(`:${port}`)) headers['host'] = `${host.slice(0, -String(port).length)}${target.port}`;
    const timeoutMs = probe.timeoutSeconds * 1000;
    const where = `${target.scheme.toLowerCase()}://${this.#opts.appAddress}:${target.port}${target.path}`;
    const options = { host: this.#opts.appAddress, port: target.port, path: target.path, method: req.method ?? 'GET', headers, agent: false as const };
    const upstream = target.scheme === 'HTTPS' ? httpsRequest({ ...options, rejectUnauthorized: false }) : httpRequest(options);
    upstream.setTimeout(timeoutMs, () => upstream.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    upstream.on('response', (up) => {
      const out = forwardable(up.headers);
      // A redirect would send the kubelet to this port's other paths (404 here); the kubelet counts
      // any 3xx it does not follow as success, so the status alone is passed on.
      if ((up.statusCode ?? 0) >= 300 && (up.statusCode ?? 0) < 400) delete out['location'];
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.once('error', () => res.destroy());
    });
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      this.#opts.log?.('probe target failed', { probe: probe.kind, container: probe.container, target: where, error: e.message });
      answer(res, e.code === 'ETIMEDOUT' ? 504 : 503, `${probe.kind} probe of container ${probe.container}: ${where}: ${e.message}`);
    });
    // the kubelet's probes are GETs without a body; anything sent is passed on
    req.pipe(upstream);
  }
}
