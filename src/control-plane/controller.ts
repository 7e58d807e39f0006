/**
 * The control loop: resources in, one snapshot per proxy out. Changes are coalesced (100 ms sliding
 * window, at most 1 s), plugin scripts are compiled (memoised by content) outside the pure core,
 * the catalog is rebuilt once per batch, and each connected proxy is sent its snapshot only when
 * the content hash changed.
 *
 * Incremental: the batch's changed objects name the proxies whose own sections may change
 * (affected.ts); only those are compiled again. Every other proxy keeps its own sections and takes
 * the new catalog's shared sections by the keys it kept (a memoized lookup), and its version is
 * combined from section hashes, so a change costs per proxy the sections it changed, not a compile.
 * A proxy whose stream asked for deltas gets only what changed since the version it was sent
 * (snapshot/delta.ts); the others, and any proxy whose last sent version is not the one the delta
 * starts from, get the whole snapshot.
 */
import type { Plugin, Pod, Resource } from '../api/types.js';
import { compilePluginScript } from '../plugins/index.js';
import { serialized } from '../lib/serialized.js';
import { serviceIdentityOf } from '../catalog/pods.js';
import { buildCatalog, canonicalJson, compileProxy, encodeDelta, listProxies, sharedSections, treeHash, versionedSnapshotJson, versionOfSectionHashes, type Catalog, type ProxyRef, type SharedSectionKeys } from '../snapshot/index.js';
import type { ProxySnapshot, VersionedSnapshot } from '../snapshot/types.js';
import { affectedProxies, type ObjectChange } from './affected.js';
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
  private readonly latest = new Map<string, ProxyState>();
  /** objects changed since the last recompute started, by key: the first `before` and the last `after` */
  private pending = new Map<string, ObjectChange>();
  /** a sync replaced every object: every proxy is compiled again */
  private pendingAll = true;
  /** characters of snapshot and delta events pushed so far (the scale bench reads it) */
  pushedChars = 0;
  /** proxies compiled in the last recompute, by `ns/name` ('all' when every one was); for tests and the bench */
  lastCompiled: 'all' | ReadonlySet<string> = 'all';
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
    this.pendingAll = true;
    this.changeSeenAt ??= Date.now();
    this.schedule(true);
  }

  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource): void {
    const key = keyOf(object);
    const before = this.resources.get(key);
    if (type === 'DELETED') this.resources.delete(key);
    else this.resources.set(key, object);
    if (type === 'MODIFIED' && before && statusOnlyChange(before, object)) return;
    const seen = this.pending.get(key);
    this.pending.set(key, { ...(seen ? (seen.before ? { before: seen.before } : {}) : before ? { before } : {}), ...(type === 'DELETED' ? {} : { after: object }) });
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
    const changes = this.pending;
    const all = this.pendingAll;
    this.pending = new Map();
    this.pendingAll = false;
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
    // Plugin sources are compiled here, outside the change list: a Plugin change is a change of
    // kind Plugin, which affects every proxy anyway.
    const affected = all ? 'all' : affectedProxies(this.catalog, catalog, changes.values());
    this.lastCompiled = affected;
    this.catalog = catalog;
    const proxies = listProxies(catalog);
    this.proxies = new Map(proxies.map((p) => [p.uuid, p]));
    const alive = new Set<string>();
    for (const p of proxies) {
      alive.add(p.uuid);
      const record = this.registry.upsert(p.uuid, p.namespace, p.name);
      const prev = this.latest.get(p.uuid);
      const next = prev && affected !== 'all' && !affected.has(`${p.namespace}/${p.name}`) ? withSharedSections(catalog, prev) : compiledState(catalog, p);
      if (!next) continue;
      const { version } = next;
      if (prev?.version !== version) this.convergence?.produced(p.uuid, version, changeAt);
      this.latest.set(p.uuid, next);
      if (record.connected && record.push && record.sentVersion !== version) {
        const event = record.deltas && prev && record.sentVersion === prev.version ? deltaEvent(prev, next) : snapshotEvent(next);
        this.registry.markSent(record, version);
        this.pushedChars += event.length;
        record.push(event);
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

/** A proxy's latest snapshot with what it takes to change it without compiling it again. */
interface ProxyState extends VersionedSnapshot {
  /** section name → treeHash at depth 1; the version combines them */
  hashes: Map<string, string>;
  /** the keys of its shared sections */
  shared: SharedSectionKeys;
}

function compiledState(catalog: Catalog, p: ProxyRef): ProxyState | undefined {
  const compiled = compileProxy(catalog, p);
  if (!compiled) return undefined;
  const hashes = new Map<string, string>();
  for (const [name, value] of Object.entries(compiled.snapshot)) if (value !== undefined) hashes.set(name, treeHash(value, 1));
  return { version: versionOfSectionHashes(hashes), snapshot: compiled.snapshot, hashes, shared: compiled.shared };
}

/** The proxy's own sections as they were, the shared ones from the new catalog (same key order as a compile gives). */
function withSharedSections(catalog: Catalog, prev: ProxyState): ProxyState {
  const shared = sharedSections(catalog, prev.shared);
  const hashes = new Map(prev.hashes);
  let same = true;
  for (const [name, value] of Object.entries(shared)) {
    const h = treeHash(value, 1);
    if (h !== hashes.get(name)) same = false;
    hashes.set(name, h);
  }
  // nothing it holds changed: the same snapshot object, so nothing downstream sees a change
  if (same) return prev;
  const snapshot: ProxySnapshot = { ...prev.snapshot, ...shared };
  return { version: versionOfSectionHashes(hashes), snapshot, hashes, shared: prev.shared };
}

/**
 * One SSE event carrying what changed from the version the proxy was sent (`prev`) to `next`.
 * Wire compatibility: only a stream that asked for deltas (the `x-tessera-deltas: 1` request header,
 * delivery.ts) gets `delta` events; a sidecar from before deltas sends no such header and keeps
 * getting whole `snapshot` events, and a controller from before deltas ignores the header, so a new
 * sidecar gets whole snapshots from it. Both event kinds carry the new version as their id, which the
 * sidecar sends back as Last-Event-ID on reconnect.
 */
export function deltaEvent(prev: ProxyState, next: ProxyState): string {
  return `id: ${next.version}\nevent: delta\ndata: ${encodeDelta(prev, next)}\n\n`;
}

/** One SSE event carrying a versioned snapshot. */
export function snapshotEvent(v: VersionedSnapshot): string {
  return `id: ${v.version}\nevent: snapshot\ndata: ${versionedSnapshotJson(v)}\n\n`;
}
