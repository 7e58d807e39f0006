/**
 * The control loop: resources in, one snapshot per proxy out. Changes are coalesced (100 ms sliding
 * window, at most 1 s), plugin scripts are compiled (memoised by content) outside the pure core,
 * the catalog is rebuilt once per batch, and each connected proxy is sent its snapshot only when
 * the content hash changed.
 */
import type { Plugin, Pod, Resource } from '../api/types.js';
import { compilePluginScript } from '../plugins/index.js';
import { serialized } from '../lib/serialized.js';
import { serviceIdentityOf } from '../catalog/pods.js';
import { buildCatalog, canonicalJson, compileProxySnapshot, listProxies, snapshotVersion, versionedSnapshotJson, type Catalog, type ProxyRef } from '../snapshot/index.js';
import type { VersionedSnapshot } from '../snapshot/types.js';
import type { ProxyRegistry } from './registry.js';
import type { ConvergenceTracker } from './convergence.js';
import { keyOf } from './watch.js';

export interface ControllerLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export class Controller {
  private readonly resources = new Map<string, Resource>();
  private synced = false;
  private catalog: Catalog | undefined;
  /** the catalog's proxies by uuid (rebuilt with the catalog) */
  private proxies = new Map<string, ProxyRef>();
  private timer: NodeJS.Timeout | undefined;
  private firstDirtyAt = 0;
  /** epoch ms of the earliest change no recompute has started from yet (convergence.ts) */
  private changeSeenAt: number | undefined;
  /** latest computed snapshot per proxy uuid */
  private readonly latest = new Map<string, VersionedSnapshot>();
  /** called with the resources of every recompute (main.ts: the AccessControl status writer) */
  onRecompute: ((resources: Resource[]) => void) | undefined;

  constructor(
    private readonly meshName: string,
    private readonly registry: ProxyRegistry,
    private readonly log: ControllerLog,
    private readonly convergence?: ConvergenceTracker,
  ) {}

  get ready(): boolean {
    return this.synced && this.catalog !== undefined;
  }

  sync(objects: Resource[]): void {
    this.resources.clear();
    for (const o of objects) this.resources.set(keyOf(o), o);
    this.synced = true;
    this.changeSeenAt ??= Date.now();
    this.schedule(true);
  }

  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource): void {
    const key = keyOf(object);
    const before = this.resources.get(key);
    if (type === 'DELETED') this.resources.delete(key);
    else this.resources.set(key, object);
    if (type === 'MODIFIED' && before && statusOnlyChange(before, object)) return;
    this.changeSeenAt ??= Date.now();
    this.schedule(false);
  }

  /** The last computed snapshot for a proxy. Undefined when the proxy is unknown or has none yet. */
  snapshotFor(uuid: string): VersionedSnapshot | undefined {
    return this.latest.get(uuid);
  }

  /** The resources of the last sync and changes (for the built-in plugins' Secret grants). */
  resourcesNow(): Resource[] {
    return [...this.resources.values()];
  }

  /** The identity (`sa.ns`) of the pod a proxy uuid belongs to. */
  proxyIdentity(uuid: string): string | undefined {
    const p = this.proxies.get(uuid);
    const pod = p && this.catalog?.pods.get(`${p.namespace}/${p.name}`);
    return pod ? serviceIdentityOf(pod) : undefined;
  }

  /** MeshConfig spec.certificate.serviceCertValidityDuration (Go duration), if set. */
  get serviceCertValidity(): string | undefined {
    return this.catalog?.meshConfig.spec.certificate?.serviceCertValidityDuration;
  }

  /** Every proxy the catalog knows (connected or not). */
  proxyUuids(): string[] {
    return [...this.proxies.keys()];
  }

  /** The Pod object a proxy uuid belongs to (its UID and ServiceAccount: sa-tokens.ts). */
  proxyPodObject(uuid: string): Pod | undefined {
    const p = this.proxies.get(uuid);
    return p ? this.catalog?.pods.get(`${p.namespace}/${p.name}`) : undefined;
  }

  /** Finds the pod a proxy uuid belongs to. */
  proxyPod(uuid: string): { namespace: string; name: string } | undefined {
    const p = this.proxies.get(uuid);
    return p ? { namespace: p.namespace, name: p.name } : undefined;
  }

  private schedule(now: boolean): void {
    const t = Date.now();
    if (!this.timer) this.firstDirtyAt = t;
    if (this.timer) clearTimeout(this.timer);
    const wait = now ? 0 : Math.max(0, Math.min(100, this.firstDirtyAt + 1000 - t));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.recompute();
    }, wait);
  }

  /** Recomputes every proxy's snapshot and pushes what changed. One run at a time. */
  readonly recompute: () => Promise<void> = serialized(() => this.recomputeOnce());

  private async recomputeOnce(): Promise<void> {
    if (!this.synced) return;
    const changeAt = this.changeSeenAt ?? Date.now();
    this.changeSeenAt = undefined;
    const resources = [...this.resources.values()];
    this.onRecompute?.(resources);
    const pluginSources = new Map<string, { kind: 'native' | 'pipy'; source: string; hash: string }>();
    for (const r of resources) {
      if (r.kind !== 'Plugin') continue;
      try {
        pluginSources.set(r.metadata.name, await compilePluginScript(r as Plugin));
      } catch (err) {
        // Admission refuses scripts that do not compile, so this only happens with a hand-edited store.
        this.log.warn('plugin does not compile; left out of every chain', { plugin: r.metadata.name, error: (err as Error).message });
      }
    }
    const catalog = buildCatalog({ meshName: this.meshName, resources, pluginSources });
    this.catalog = catalog;
    const proxies = listProxies(catalog);
    this.proxies = new Map(proxies.map((p) => [p.uuid, p]));
    const alive = new Set<string>();
    for (const p of proxies) {
      alive.add(p.uuid);
      const record = this.registry.upsert(p.uuid, p.namespace, p.name);
      const snapshot = compileProxySnapshot(catalog, p);
      if (!snapshot) continue;
      const version = snapshotVersion(snapshot);
      if (this.latest.get(p.uuid)?.version !== version) this.convergence?.produced(p.uuid, version, changeAt);
      this.latest.set(p.uuid, { version, snapshot });
      if (record.connected && record.push && record.sentVersion !== version) {
        this.registry.markSent(record, version);
        record.push(snapshotEvent({ version, snapshot }));
      }
    }
    for (const uuid of this.latest.keys()) if (!alive.has(uuid)) this.latest.delete(uuid);
    this.registry.retain(alive);
    this.convergence?.retain(alive);
  }
}

/**
 * Kinds whose status the compiler never reads: a change of nothing but their status (AccessControl
 * status, written by the controller's status writer and the local daemon) cannot change a snapshot,
 * so it recomputes nothing.
 */
const STATUS_NOT_COMPILED = new Set(['AccessControl']);

export function statusOnlyChange(before: Resource, after: Resource): boolean {
  if (!STATUS_NOT_COMPILED.has(after.kind)) return false;
  const strip = (r: Resource): string => {
    const { status: _status, metadata, ...rest } = r;
    const { resourceVersion: _rv, ...meta } = metadata;
    return canonicalJson({ ...rest, metadata: meta });
  };
  return strip(before) === strip(after);
}

/** One SSE event carrying a versioned snapshot. */
export function snapshotEvent(v: VersionedSnapshot): string {
  return `id: ${v.version}\nevent: snapshot\ndata: ${versionedSnapshotJson(v)}\n\n`;
}
