/**
 * The sidecar's side of delivery: one Server-Sent Events stream from the control plane carrying
 * versioned full snapshots, and deltas (`delta` events: what changed since the version it was
 * sent, snapshot/delta.ts). A delta is applied onto the snapshot held here and the result must hash
 * to the version the delta names; a delta for another base, or one that does not check out, is not
 * applied: the whole snapshot is fetched instead (GET config; if that fails, the stream reconnects
 * and is sent the whole snapshot). Each version is applied and acknowledged (ACK) or rejected with its
 * error (NACK). On disconnect it reconnects with jittered backoff (0.5 s doubling to 30 s), sending
 * `Last-Event-ID` so an unchanged snapshot is not resent. The stream runs over TLS to a controller
 * whose certificate chains to the cluster CA (control-plane-fetch.ts); `token` events renew the
 * short-lived proxy token. A token that expired while disconnected cannot be renewed: the sidecar
 * then exits so the runtime restarts it with a fresh one.
 */
import type { ProxySnapshot } from '../../snapshot/types.js';
import { applyDelta, buildHashTree, DELTAS_HEADER, parseDelta, type HashTree, type HeldSnapshot } from '../../snapshot/delta.js';
import { controlPlaneChannel, type ControlPlaneChannel } from './control-plane-fetch.js';
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
  /** the token expired and the controller refuses it; default: log and exit(75) so the runtime restarts the sidecar */
  onTokenExpired?: () => void;
}

export class StreamClient {
  private stopped = false;
  private abort: AbortController | undefined;
  private backoffMs = 500;
  /** bumped per acknowledgement, so a retry of an older one stops */
  private ackGeneration = 0;
  /** the snapshot the sidecar runs, for deltas to apply onto; its hash tree is built on the first delta */
  private held: { version: string; snapshot: ProxySnapshot; tree?: HashTree } | undefined;
  connected = false;
  /** deltas applied, and deltas that could not be and were replaced by the whole snapshot (tests, bench) */
  readonly deltaCounts = { applied: 0, refetched: 0 };

  private readonly channel: ControlPlaneChannel;

  constructor(private readonly opts: StreamClientOptions) {
    this.channel = controlPlaneChannel({ controllerUrl: opts.controllerUrl, uuid: opts.uuid, token: opts.token });
  }

  start(): void {
    void this.loop();
  }

  /** The snapshot the sidecar already runs (its copy from disk), so a delta can apply onto it. */
  hold(version: string, snapshot: ProxySnapshot): void {
    this.held = { version, snapshot };
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
    const headers: Record<string, string> = { accept: 'text/event-stream', [DELTAS_HEADER]: '1' };
    const v = this.opts.currentVersion();
    if (v) headers['last-event-id'] = v;
    const res = await this.channel.fetch(`/v1/proxies/${this.opts.uuid}/stream`, { headers, signal: this.abort.signal });
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      if (res.status === 401 && this.channel.tokenExpired()) this.tokenExpired();
      throw new Error(`stream refused: HTTP ${res.status} ${text}`);
    }
    this.connected = true;
    this.backoffMs = 500;
    this.opts.log.info('connected to control plane', { url: this.channel.baseUrl, tls: this.channel.secure });
    await readEventStream(res.body as unknown as AsyncIterable<Uint8Array>, (e) => this.onEvent(e));
    throw new Error('stream ended');
  }

  private tokenExpired(): void {
    this.opts.log.error('proxy token expired while disconnected from the control plane; exiting so the runtime restarts this sidecar with a fresh one', {});
    this.stop();
    if (this.opts.onTokenExpired) this.opts.onTokenExpired();
    else process.exit(75);
  }

  private async onEvent(e: ServerSentEvent): Promise<void> {
    if (e.event === 'token') {
      try {
        const { token } = JSON.parse(e.data) as { token?: unknown };
        if (typeof token === 'string') this.channel.renewToken(token);
      } catch (err) {
        this.opts.log.warn('bad token event', { error: (err as Error).message });
      }
      return;
    }
    if (e.event === 'trust') {
      try {
        this.opts.onTrust?.(JSON.parse(e.data) as { bundle: string[]; activeRoot: string });
      } catch (err) {
        this.opts.log.warn('bad trust event', { error: (err as Error).message });
      }
      return;
    }
    if (e.event === 'delta') return this.onDelta(e.data);
    if (e.event !== 'snapshot') return;
    let msg: { version: string; snapshot: ProxySnapshot } | undefined;
    try {
      msg = JSON.parse(e.data) as { version: string; snapshot: ProxySnapshot };
    } catch (err) {
      void this.ack('', `cannot decode snapshot: ${(err as Error).message}`);
      return;
    }
    await this.applyWhole(msg.version, msg.snapshot);
  }

  private async applyWhole(version: string, snapshot: ProxySnapshot): Promise<void> {
    let error: string | undefined;
    try {
      error = await this.opts.apply(version, snapshot);
    } catch (err) {
      error = `cannot apply snapshot: ${(err as Error).message}`;
    }
    // not awaited: a retried report must not hold up the next snapshot on the stream
    void this.ack(version, error);
    if (error === undefined) {
      const held: { version: string; snapshot: ProxySnapshot; tree?: HashTree } = { version, snapshot };
      this.held = held;
      // hashed once the ACK is on its way, so the next delta does not wait for it
      setImmediate(() => {
        if (this.held === held) held.tree ??= buildHashTree(snapshot);
      }).unref();
    }
  }

  private async onDelta(data: string): Promise<void> {
    let next: HeldSnapshot;
    try {
      const delta = parseDelta(data);
      const held = this.held;
      if (!held) throw new Error(`no snapshot held to apply the delta for version ${delta.version.slice(0, 12)} onto`);
      held.tree ??= buildHashTree(held.snapshot);
      next = applyDelta(held as HeldSnapshot, delta);
    } catch (err) {
      this.deltaCounts.refetched++;
      this.opts.log.info('delta not applied; fetching the whole snapshot', { error: (err as Error).message });
      return this.fetchWhole();
    }
    this.deltaCounts.applied++;
    let error: string | undefined;
    try {
      error = await this.opts.apply(next.version, next.snapshot);
    } catch (err) {
      error = `cannot apply snapshot: ${(err as Error).message}`;
    }
    if (error === undefined) this.held = next;
    void this.ack(next.version, error);
  }

  /** GET config: the whole current snapshot. A failure ends the stream, and the reconnect brings the whole snapshot. */
  private async fetchWhole(): Promise<void> {
    const res = await this.channel.fetch(`/v1/proxies/${this.opts.uuid}/config`, { ...(this.abort ? { signal: this.abort.signal } : {}) });
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      throw new Error(`cannot fetch the whole snapshot after a delta did not apply: HTTP ${res.status}`);
    }
    const msg = (await res.json()) as { version?: unknown; snapshot?: unknown };
    if (typeof msg.version !== 'string' || msg.snapshot === null || typeof msg.snapshot !== 'object') throw new Error('the whole snapshot fetched after a delta has no version or snapshot');
    await this.applyWhole(msg.version, msg.snapshot as ProxySnapshot);
  }

  /**
   * Reports the outcome of `version`. A report that fails (a timeout while the controller is busy
   * pushing to a thousand proxies, a dropped connection) is retried with backoff: without it the
   * proxy runs the version while the control plane shows it STALE until the next change. Retries
   * stop once a newer version was received or the client stopped; a reconnected stream also reports
   * the version (Last-Event-ID).
   */
  private async ack(version: string, error: string | undefined): Promise<void> {
    const generation = ++this.ackGeneration;
    const body = JSON.stringify(error === undefined ? { version, ok: true } : { version, ok: false, error });
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.channel.fetch(`/v1/proxies/${this.opts.uuid}/ack`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
        // 4xx will not change on a retry (a refused token, a pod that is gone)
        if (res.ok || (res.status >= 400 && res.status < 500)) {
          if (!res.ok) this.opts.log.warn('control plane refused the acknowledgement', { version, status: res.status });
          return;
        }
        throw new Error(`HTTP ${res.status}`);
      } catch (err) {
        const superseded = generation !== this.ackGeneration || this.stopped;
        const delay = Math.min(ACK_RETRY_MAX_MS, ACK_RETRY_BASE_MS * 2 ** attempt);
        this.opts.log.warn('could not acknowledge snapshot', { version, error: (err as Error).message, ...(superseded ? { givenUp: true } : { retryInMs: delay }) });
        if (superseded) return;
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random() * 0.5)).unref());
        if (generation !== this.ackGeneration || this.stopped) return;
      }
    }
  }
}

const ACK_TIMEOUT_MS = 5_000;
/** 0.5 s doubling to 30 s between attempts (jittered), until the report lands or a newer version supersedes it */
const ACK_RETRY_BASE_MS = 500;
const ACK_RETRY_MAX_MS = 30_000;
