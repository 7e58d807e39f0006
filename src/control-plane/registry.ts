/**
 * What the control plane knows about each proxy: whether its stream is open, which version it was
 * sent, which version it acknowledged, and the error of the last version it rejected.
 */
import type { ProxyStatus } from '../local/api-contract.js';

export interface ProxyRecord {
  uuid: string;
  namespace: string;
  pod: string;
  connected: boolean;
  sentVersion?: string;
  appliedVersion?: string;
  lastError?: string;
  /**
   * epoch ms: when the proxy was sent a version it has not answered yet (the first of several
   * unanswered pushes: markSent), when a version was last acknowledged, when one was last rejected
   */
  sentAt?: number;
  ackedAt?: number;
  nackedAt?: number;
  /** pushes a snapshot event down the open stream */
  push?: (event: string) => void;
  /** the open stream asked for `delta` events (controller.ts deltaEvent) */
  deltas?: boolean;
}

export class ProxyRegistry {
  private readonly records = new Map<string, ProxyRecord>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Records that `version` was pushed to the proxy. While an earlier push is still unanswered (no
   * ACK or NACK since), sentAt keeps its time: the proxy has been behind since then, and a stream of
   * newer versions (endpoints changing because the proxy itself stopped answering) must not keep a
   * proxy that acknowledges nothing looking SYNCED.
   */
  markSent(record: ProxyRecord, version: string): void {
    if (record.sentVersion === version) return;
    const answered = record.sentVersion === undefined || record.sentVersion === record.appliedVersion || (record.nackedAt !== undefined && record.sentAt !== undefined && record.nackedAt >= record.sentAt);
    if (answered || record.sentAt === undefined) record.sentAt = this.now();
    record.sentVersion = version;
  }

  get(uuid: string): ProxyRecord | undefined {
    return this.records.get(uuid);
  }

  upsert(uuid: string, namespace: string, pod: string): ProxyRecord {
    let r = this.records.get(uuid);
    if (!r) {
      r = { uuid, namespace, pod, connected: false };
      this.records.set(uuid, r);
    }
    r.namespace = namespace;
    r.pod = pod;
    return r;
  }

  /** Forgets proxies whose pods are gone. */
  retain(uuids: ReadonlySet<string>): void {
    for (const uuid of this.records.keys()) if (!uuids.has(uuid) && !this.records.get(uuid)!.connected) this.records.delete(uuid);
  }

  connected(): ProxyRecord[] {
    return [...this.records.values()].filter((r) => r.connected);
  }

  acknowledge(uuid: string, version: string, ok: boolean, error?: string): void {
    const r = this.records.get(uuid);
    if (!r) return;
    // a late report (a retried ACK) about a version the proxy was sent before the current one
    if (r.sentVersion !== undefined && version !== r.sentVersion) return;
    if (ok) {
      r.appliedVersion = version;
      r.ackedAt = this.now();
      delete r.lastError;
    } else {
      r.nackedAt = this.now();
      r.lastError = `version ${version.slice(0, 12)}: ${error ?? 'rejected'}`;
    }
  }

  status(): ProxyStatus[] {
    const now = this.now();
    return [...this.records.values()]
      .map((r) => {
        const s: ProxyStatus = { namespace: r.namespace, pod: r.pod, uuid: r.uuid, connected: r.connected };
        if (r.sentVersion) s.sentVersion = r.sentVersion;
        if (r.appliedVersion) s.appliedVersion = r.appliedVersion;
        if (r.lastError) s.lastError = r.lastError;
        if (r.sentAt !== undefined) s.sentAt = new Date(r.sentAt).toISOString();
        if (r.ackedAt !== undefined) s.ackedAt = new Date(r.ackedAt).toISOString();
        if (r.nackedAt !== undefined) s.nackedAt = new Date(r.nackedAt).toISOString();
        s.sync = syncStateOf(s, now);
        return s;
      })
      .sort((a, b) => `${a.namespace}/${a.pod}`.localeCompare(`${b.namespace}/${b.pod}`));
  }
}

/** How long a proxy may take to acknowledge a version before it counts as STALE. */
export const STALE_AFTER_MS = 5_000;

/**
 * The sync state `tessera proxy status` and the dashboard show, as `istioctl proxy-status` names them:
 * SYNCED (applied what was sent), NOT SENT (nothing sent yet), NACKED (rejected the version it was
 * sent), STALE (sent but not acknowledged within STALE_AFTER_MS, or its stream is closed).
 */
export type SyncState = NonNullable<ProxyStatus['sync']>;

export function syncStateOf(p: ProxyStatus, nowMs: number, staleAfterMs = STALE_AFTER_MS): SyncState {
  if (!p.sentVersion) return 'NOT SENT';
  if (p.appliedVersion === p.sentVersion) return p.connected ? 'SYNCED' : 'STALE';
  if (p.lastError && p.nackedAt && (!p.sentAt || Date.parse(p.nackedAt) >= Date.parse(p.sentAt))) return 'NACKED';
  const sentAt = p.sentAt ? Date.parse(p.sentAt) : 0;
  return !p.connected || nowMs - sentAt >= staleAfterMs ? 'STALE' : 'SYNCED';
}
