/**
 * The sidecar's side of delivery: one Server-Sent Events stream from the control plane carrying
 * versioned full snapshots. Each version is applied and acknowledged (ACK) or rejected with its
 * error (NACK). On disconnect it reconnects with jittered backoff (0.5 s doubling to 30 s), sending
 * `Last-Event-ID` so an unchanged snapshot is not resent.
 */
import type { ProxySnapshot } from '../../snapshot/types.js';
import { readEventStream, type ServerSentEvent } from '../../lib/sse.js';
import type { SidecarLog } from '../observability/log.js';

export interface StreamClientOptions {
  controllerUrl: string;
  uuid: string;
  token: string;
  log: SidecarLog;
  /** current applied version, sent as Last-Event-ID */
  currentVersion: () => string | undefined;
  /** applies a snapshot; resolves to an error message to NACK, or undefined to ACK */
  apply: (version: string, snapshot: ProxySnapshot) => Promise<string | undefined>;
  /** the mesh's trust bundle (sent on connect and whenever roots change) */
  onTrust?: (trust: { bundle: string[]; activeRoot: string }) => void;
}

export class StreamClient {
  private stopped = false;
  private abort: AbortController | undefined;
  private backoffMs = 500;
  connected = false;

  constructor(private readonly opts: StreamClientOptions) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.once();
        this.backoffMs = 500;
      } catch (err) {
        if (this.stopped) return;
        this.opts.log.warn('control plane stream lost; retrying', { error: (err as Error).message, retryInMs: this.backoffMs });
      }
      this.connected = false;
      if (this.stopped) return;
      const delay = this.backoffMs * (0.5 + Math.random() * 0.5);
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      await new Promise((r) => setTimeout(r, delay).unref());
    }
  }

  private async once(): Promise<void> {
    this.abort = new AbortController();
    const headers: Record<string, string> = { authorization: `Bearer ${this.opts.token}`, accept: 'text/event-stream' };
    const v = this.opts.currentVersion();
    if (v) headers['last-event-id'] = v;
    const res = await fetch(`${this.opts.controllerUrl}/v1/proxies/${this.opts.uuid}/stream`, { headers, signal: this.abort.signal });
    if (!res.ok || !res.body) throw new Error(`stream refused: HTTP ${res.status} ${await res.text().catch(() => '')}`);
    this.connected = true;
    this.backoffMs = 500;
    this.opts.log.info('connected to control plane', { url: this.opts.controllerUrl });
    await readEventStream(res.body as unknown as AsyncIterable<Uint8Array>, (e) => this.onEvent(e));
    throw new Error('stream ended');
  }

  private async onEvent(e: ServerSentEvent): Promise<void> {
    if (e.event === 'trust') {
      try {
        this.opts.onTrust?.(JSON.parse(e.data) as { bundle: string[]; activeRoot: string });
      } catch (err) {
        this.opts.log.warn('bad trust event', { error: (err as Error).message });
      }
      return;
    }
    if (e.event !== 'snapshot') return;
    let version = '';
    let error: string | undefined;
    try {
      const msg = JSON.parse(e.data) as { version: string; snapshot: ProxySnapshot };
      version = msg.version;
      error = await this.opts.apply(msg.version, msg.snapshot);
    } catch (err) {
      error = `cannot decode snapshot: ${(err as Error).message}`;
    }
    await this.ack(version, error);
  }

  private async ack(version: string, error: string | undefined): Promise<void> {
    try {
      await fetch(`${this.opts.controllerUrl}/v1/proxies/${this.opts.uuid}/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(error === undefined ? { version, ok: true } : { version, ok: false, error }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      this.opts.log.warn('could not acknowledge snapshot', { version, error: (err as Error).message });
    }
  }
}
