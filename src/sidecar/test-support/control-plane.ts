/**
 * A fake control plane speaking the delivery protocol the sidecar's StreamClient expects:
 *   GET  /v1/proxies/:uuid/stream  SSE `id: V\nevent: snapshot\ndata: {"version":V,"snapshot":S}\n\n`
 *   POST /v1/proxies/:uuid/ack     {version, ok, error?}, recorded
 * Requests must carry `Authorization: Bearer proxyToken(meshKey, uuid)`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { proxyTokenValid, proxyToken } from '../../local/layout.js';
import { parseServiceIdentity, signWorkloadCsr, type CertificateAuthority } from '../../identity/index.js';
import { until } from './net.js';

export interface Ack {
  uuid: string;
  version: string;
  ok: boolean;
  error?: string;
}

export class FakeControlPlane {
  readonly meshKey = randomBytes(32).toString('hex');
  readonly acks: Ack[] = [];
  /** stream connections opened, per uuid */
  readonly connects = new Map<string, number>();
  /** requests refused for a bad token */
  unauthorized = 0;
  private readonly latest = new Map<string, { version: string; snapshot: unknown }>();
  private readonly streams = new Map<string, Set<ServerResponse>>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  /** with a CA, `POST /v1/proxies/:uuid/csr` issues workload certificates for the identities registered here */
  private ca: CertificateAuthority | undefined;
  private readonly identities = new Map<string, string>();

  constructor(private readonly host: string) {}

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  tokenFor(uuid: string): string {
    return proxyToken(this.meshKey, uuid);
  }

  /** Issues certificates signed by `ca`: proxy `uuid` gets `identity` (`sa.ns`), as the real control plane decides. */
  issueCertificates(ca: CertificateAuthority, identities: Record<string, string>): void {
    this.ca = ca;
    for (const [uuid, identity] of Object.entries(identities)) this.identities.set(uuid, identity);
  }

  /** Starts (or restarts, on the same port) the server. */
  async start(): Promise<void> {
    const server = createServer((req, res) => this.route(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Goes away hard: the listener closes and every stream is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const set of this.streams.values()) set.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Sets the newest snapshot for a proxy and pushes it to its open streams. */
  publish(uuid: string, version: string, snapshot: unknown): void {
    this.latest.set(uuid, { version, snapshot });
    for (const res of this.streams.get(uuid) ?? []) res.write(event(version, snapshot));
  }

  connected(uuid: string): number {
    return this.streams.get(uuid)?.size ?? 0;
  }

  /** Waits for the ACK or NACK of `version` from `uuid`. */
  waitAck(uuid: string, version: string, timeoutMs = 5000): Promise<Ack> {
    return until(() => this.acks.find((a) => a.uuid === uuid && a.version === version), `an ack of ${version.slice(0, 12)} from ${uuid}`, timeoutMs);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/v1\/proxies\/([^/]+)\/(stream|ack|csr)$/.exec((req.url ?? '').split('?')[0]!);
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    if (!m) return send(404, { error: 'no route' });
    const uuid = m[1]!;
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !proxyTokenValid(this.meshKey, uuid, auth.slice(7))) {
      this.unauthorized++;
      return send(401, { error: 'invalid proxy token' });
    }
    if (m[2] === 'csr' && req.method === 'POST') {
      const ca = this.ca;
      const identity = this.identities.get(uuid);
      if (!ca || !identity) return send(404, { error: 'no certificate authority here' });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { csr } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { csr: string };
        signWorkloadCsr(ca, csr, { identity: parseServiceIdentity(identity), ttlMs: 3600_000 }).then(
          (issued) => send(200, { certChain: issued.chainPem, trust: { bundle: [ca.certificatePem], activeRoot: new X509Certificate(ca.certificatePem).fingerprint256 } }),
          (err: Error) => send(400, { error: err.message }),
        );
      });
      return;
    }
    if (m[2] === 'ack' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { version: string; ok: boolean; error?: string };
        this.acks.push({ uuid, version: body.version, ok: body.ok, ...(body.error !== undefined ? { error: body.error } : {}) });
        send(200, { ok: true });
      });
      return;
    }
    if (m[2] === 'stream' && req.method === 'GET') {
      this.connects.set(uuid, (this.connects.get(uuid) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': connected\n\n');
      let set = this.streams.get(uuid);
      if (!set) this.streams.set(uuid, (set = new Set()));
      set.add(res);
      req.on('close', () => set.delete(res));
      const v = this.latest.get(uuid);
      if (v && req.headers['last-event-id'] !== v.version) res.write(event(v.version, v.snapshot));
      return;
    }
    send(405, { error: 'method not allowed' });
  }
}

function event(version: string, snapshot: unknown): string {
  return `id: ${version}\nevent: snapshot\ndata: ${JSON.stringify({ version, snapshot })}\n\n`;
}
