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
  /** pushes a snapshot event down the open stream */
  push?: (event: string) => void;
}

export class ProxyRegistry {
  private readonly records = new Map<string, ProxyRecord>();

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
    if (ok) {
      r.appliedVersion = version;
      delete r.lastError;
    } else r.lastError = `version ${version.slice(0, 12)}: ${error ?? 'rejected'}`;
  }

  status(): ProxyStatus[] {
    return [...this.records.values()]
      .map((r) => {
        const s: ProxyStatus = { namespace: r.namespace, pod: r.pod, uuid: r.uuid, connected: r.connected };
        if (r.sentVersion) s.sentVersion = r.sentVersion;
        if (r.appliedVersion) s.appliedVersion = r.appliedVersion;
        if (r.lastError) s.lastError = r.lastError;
        return s;
      })
      .sort((a, b) => `${a.namespace}/${a.pod}`.localeCompare(`${b.namespace}/${b.pod}`));
  }
}
