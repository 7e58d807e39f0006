/**
 * How a sidecar calls its control plane (snapshot stream, ACKs, CSRs, plugin Secrets): over TLS,
 * trusting only the cluster CA, so the proxy token is never sent to a process that took the
 * controller's address first. One channel per (controller, proxy) holds the newest proxy token:
 * the controller renews it on the stream (`token` events) and every call uses the latest.
 *
 * The CA comes from TESSERA_CONTROLLER_CA_FILE, or — for a sidecar started by a runtime that does
 * not set it yet — from the state directory its data directory lies in (`<state>/pods/NS/POD` →
 * `<state>/pki/ca.crt`). With a CA, an `http://` controller URL is upgraded to `https://`; without
 * one, only a plain `http://` URL is used as given (tests' in-process control planes).
 *
 * On a Kubernetes cluster the sidecar has no proxy token: TESSERA_PROXY_TOKEN_FILE names its pod's
 * projected ServiceAccount token (cluster-bootstrap.ts). The file is read for every call — each
 * (re)connect of the stream, each ACK, CSR and Secret — so the kubelet's rotation is honoured, and
 * the controller's `token` events are ignored. The token is never logged; a file that cannot be read
 * fails the call with the file's name.
 *
 * Calls go through node:http(s) rather than a fetch library: the sidecar already has those loaded for
 * its data path, and undici alone held ~15 MiB of every sidecar's memory (docs/benchmarks.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { basename, dirname, join } from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { SIDECAR_ENV, proxyTokenExpiry } from '../../local/layout.js';

export interface ControlPlaneChannelOptions {
  controllerUrl: string;
  uuid: string;
  /** the token the runtime started this sidecar with ('' when it has a token file) */
  token: string;
  /** a file holding the token, read for every call (default: TESSERA_PROXY_TOKEN_FILE when `token` is empty) */
  tokenFile?: string;
  /** PEM of the CA the controller's certificate must chain to; default: from the environment (see above) */
  caPem?: string;
  /** the host the certificate must name when it is not the URL's (default: TESSERA_CONTROLLER_SERVER_NAME) */
  serverName?: string;
}

/** What a call may carry: a small part of fetch's RequestInit. */
export interface ChannelRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** A call's answer; `body` is the stream of the response's bytes, read once, by it or by text/json/arrayBuffer. */
export interface ChannelResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export class ControlPlaneChannel {
  readonly baseUrl: string;
  private token: string;
  private readonly tokenFile: string | undefined;
  private readonly agent: HttpsAgent | undefined;
  private readonly plainAgent = new HttpAgent({ keepAlive: true, keepAliveMsecs: 30_000 });

  constructor(opts: ControlPlaneChannelOptions) {
    const ca = opts.caPem ?? controlPlaneCaFromEnv();
    let url = opts.controllerUrl.replace(/\/+$/, '');
    if (ca !== undefined && url.startsWith('http://')) url = `https://${url.slice('http://'.length)}`;
    if (url.startsWith('https://') && ca === undefined) {
      throw new Error(`no CA to verify the control plane at ${url}: set ${SIDECAR_ENV.controllerCa}`);
    }
    this.baseUrl = url;
    this.token = opts.token;
    this.tokenFile = opts.tokenFile ?? (opts.token ? undefined : process.env[SIDECAR_ENV.proxyTokenFile] || undefined);
    if (!this.token && !this.tokenFile) throw new Error(`no token for the control plane: set ${SIDECAR_ENV.proxyToken} or ${SIDECAR_ENV.proxyTokenFile}`);
    // Only the cluster CA: no system root may vouch for the controller's address.
    const serverName = opts.serverName ?? process.env[SIDECAR_ENV.controllerServerName];
    const identity = serverName ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(serverName, cert) } : {};
    this.agent = ca === undefined ? undefined : new HttpsAgent({ ca, rejectUnauthorized: true, ...identity, keepAlive: true, keepAliveMsecs: 30_000 });
  }

  get secure(): boolean {
    return this.agent !== undefined;
  }

  /** The newest token: the token file's content when there is one. */
  currentToken(): string {
    if (this.tokenFile === undefined) return this.token;
    let text: string;
    try {
      text = readFileSync(this.tokenFile, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the ServiceAccount token file ${this.tokenFile} (${SIDECAR_ENV.proxyTokenFile}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const token = text.trim();
    if (!token) throw new Error(`the ServiceAccount token file ${this.tokenFile} (${SIDECAR_ENV.proxyTokenFile}) is empty`);
    return token;
  }

  /** Whether the token comes from a file (the kubelet rotates it; the controller sends none). */
  get fromFile(): boolean {
    return this.tokenFile !== undefined;
  }

  /** A renewed token from the controller; an older or malformed one is ignored (and every one, with a token file). */
  renewToken(token: string): void {
    if (this.tokenFile !== undefined) return;
    const next = proxyTokenExpiry(token);
    const now = proxyTokenExpiry(this.token);
    if (next !== undefined && (now === undefined || next >= now)) this.token = token;
  }

  /** True when the newest token has expired: only a restart (a fresh token from the runtime) helps. */
  tokenExpired(at = Date.now()): boolean {
    // a token file is rotated by the kubelet: the next call reads the new one
    if (this.tokenFile !== undefined) return false;
    const exp = proxyTokenExpiry(this.token);
    return exp !== undefined && exp <= at;
  }

  /** A call to `path` (`/v1/proxies/…`) carrying the newest token. */
  fetch(path: string, init: ChannelRequest = {}): Promise<ChannelResponse> {
    let token: string;
    try {
      token = this.currentToken();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const headers: Record<string, string> = { ...init.headers, authorization: `Bearer ${token}` };
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
    const url = `${this.baseUrl}${path}`;
    return new Promise<ChannelResponse>((resolve, reject) => {
      const options = { method: init.method ?? 'GET', headers, ...(init.signal ? { signal: init.signal } : {}) };
      const req = this.agent ? httpsRequest(url, { ...options, agent: this.agent }) : httpRequest(url, { ...options, agent: this.plainAgent });
      req.on('error', reject);
      req.on('response', (res) => resolve(channelResponse(res)));
      req.end(init.body);
    });
  }
}

function channelResponse(res: IncomingMessage): ChannelResponse {
  const status = res.statusCode ?? 0;
  const bytes = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    status,
    ok: status >= 200 && status < 300,
    body: res,
    text: async () => (await bytes()).toString('utf8'),
    json: async () => JSON.parse((await bytes()).toString('utf8')) as unknown,
    arrayBuffer: async () => {
      const b = await bytes();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

const channels = new Map<string, ControlPlaneChannel>();

/** The process's channel to `controllerUrl` for proxy `uuid` (created on first use). */
export function controlPlaneChannel(opts: ControlPlaneChannelOptions): ControlPlaneChannel {
  const key = `${opts.controllerUrl}\0${opts.uuid}`;
  let ch = channels.get(key);
  if (!ch) {
    ch = new ControlPlaneChannel(opts);
    channels.set(key, ch);
  }
  return ch;
}

/** Forgets every channel (tests). */
export function resetControlPlaneChannels(): void {
  channels.clear();
}

/** The CA file named by the environment, or the cluster CA of the state directory the sidecar's data directory is in. */
export function controlPlaneCaFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env[SIDECAR_ENV.controllerCa];
  if (named) return readFileSync(named, 'utf8');
  const dataDir = env[SIDECAR_ENV.dataDir];
  if (!dataDir) return undefined;
  // <state>/pods/<ns>/<pod>
  const podsDir = dirname(dirname(dataDir));
  if (basename(podsDir) !== 'pods') return undefined;
  const caFile = join(dirname(podsDir), 'pki', 'ca.crt');
  return existsSync(caFile) ? readFileSync(caFile, 'utf8') : undefined;
}
