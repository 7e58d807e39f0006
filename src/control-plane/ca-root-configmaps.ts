/**
 * The ConfigMap `<mesh>-ca-root-cert` (`ca.crt`: every root sidecars must trust, the active one first;
 * public) in every namespace labelled `flomesh.io/monitored-by=<mesh>`, as istiod keeps
 * `istio-ca-root-cert`: the injected sidecar mounts it (`fsm-ca-root`, sidecar/config/cluster-bootstrap.ts)
 * to verify the controller before it sends its ServiceAccount token.
 *
 * Driven by the controller's informer view (Namespaces and ConfigMaps are watched anyway): created
 * when a namespace joins the mesh, rewritten when the trust bundle changes (a new root, a retired
 * one), deleted when the namespace leaves the mesh (only a ConfigMap this controller labelled as its
 * own). Namespaces being deleted are left alone. Only the leader writes (`canWrite`); a failed write
 * is tried again at the next reconcile (every 5 s and on every Namespace or ConfigMap change).
 * Written with server-side apply, which kube-apiserver authorizes as `create` (or `patch`) of the
 * object's name, so RBAC grants create, patch and delete on the name `<mesh>-ca-root-cert` only
 * (install/render.ts) and no other ConfigMap outside `<mesh>-system`. Local mode's embedded API
 * serves server-side apply as kube-apiserver does, so the keeper works the same there (the local
 * runtimes also give their sidecars the CA themselves).
 */
import type { ConfigMap, Resource } from '../api/types.js';
import { MONITORED_BY_LABEL } from '../api/types.js';
import { isMeshError } from '../lib/errors.js';
import { serialized } from '../lib/serialized.js';
import { CA_ROOT_KEY, CA_ROOT_MANAGED_BY_LABEL, caRootConfigMapName, caRootManagedBy } from '../sidecar/config/cluster-bootstrap.js';
import type { WriteGate } from './identity.js';

export { CA_ROOT_MANAGED_BY_LABEL, caRootManagedBy };

export interface ConfigMapApi {
  request<T = unknown>(method: string, path: string, o?: { body?: unknown; contentType?: string; query?: Record<string, string>; timeoutMs?: number; label?: string }): Promise<T>;
}

export interface CaRootConfigMapOptions {
  api: ConfigMapApi;
  meshName: string;
  /** the trust bundle's PEMs (active root first); undefined until the CA is loaded */
  roots: () => readonly string[] | undefined;
  log: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

const TIMEOUT_MS = 5_000;

/** `ca.crt`: the PEMs, each ending in a newline. */
export function caRootData(roots: readonly string[]): string {
  return roots.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
}

export class CaRootConfigMapKeeper {
  /** Whether this replica may write (the leader election's gate). */
  canWrite: WriteGate = () => true;
  private readonly namespaces = new Map<string, Resource>();
  /** the ConfigMaps named `<mesh>-ca-root-cert`, by namespace, as last seen (watch or own write) */
  private readonly configMaps = new Map<string, ConfigMap>();
  private readonly name: string;

  constructor(private readonly opts: CaRootConfigMapOptions) {
    this.name = caRootConfigMapName(opts.meshName);
  }

  sync(objects: readonly Resource[]): void {
    this.namespaces.clear();
    this.configMaps.clear();
    for (const o of objects) this.observe('ADDED', o);
    void this.reconcile();
  }

  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource): void {
    if (this.observe(type, object)) void this.reconcile();
  }

  /** Records a Namespace or one of our ConfigMaps; true when it was one. */
  private observe(type: 'ADDED' | 'MODIFIED' | 'DELETED', o: Resource): boolean {
    if (o.kind === 'Namespace') {
      if (type === 'DELETED') this.namespaces.delete(o.metadata.name);
      else this.namespaces.set(o.metadata.name, o);
      return true;
    }
    if (o.kind === 'ConfigMap' && o.metadata.name === this.name && o.metadata.namespace) {
      if (type === 'DELETED') this.configMaps.delete(o.metadata.namespace);
      else this.configMaps.set(o.metadata.namespace, o as ConfigMap);
      return true;
    }
    return false;
  }

  /** Brings every namespace's ConfigMap in line with the mesh's namespaces and trust bundle. One run at a time. */
  readonly reconcile: () => Promise<void> = serialized(() => this.reconcileOnce());

  private async reconcileOnce(): Promise<void> {
    if (!this.canWrite()) return;
    const roots = this.opts.roots();
    if (!roots || roots.length === 0) return;
    const data = caRootData(roots);
    const mesh = this.opts.meshName;
    for (const [ns, obj] of this.namespaces) {
      const monitored = obj.metadata.labels?.[MONITORED_BY_LABEL] === mesh;
      const terminating = Boolean(obj.metadata.deletionTimestamp) || (obj as { status?: { phase?: string } }).status?.phase === 'Terminating';
      const current = this.configMaps.get(ns);
      try {
        if (monitored && !terminating) {
          if (!current || current.data?.[CA_ROOT_KEY] !== data || current.metadata.labels?.[CA_ROOT_MANAGED_BY_LABEL] !== caRootManagedBy(mesh)) await this.apply(ns, data);
        } else if (!monitored && current && current.metadata.labels?.[CA_ROOT_MANAGED_BY_LABEL] === caRootManagedBy(mesh)) {
          await this.remove(ns);
        }
      } catch (e) {
        this.opts.log.warn('cannot write the mesh CA ConfigMap; retrying', { configMap: `${ns}/${this.name}`, error: (e as Error).message });
      }
      if (!this.canWrite()) return;
    }
  }

  private path(ns: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${encodeURIComponent(this.name)}`;
  }

  /**
   * Server-side apply (create or update in one PATCH, field manager `<mesh>-controller`): the API
   * server authorizes the create with the object's name, so RBAC can grant create on this name only.
   */
  private async apply(ns: string, data: string): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: this.name,
        namespace: ns,
        labels: { [CA_ROOT_MANAGED_BY_LABEL]: caRootManagedBy(this.opts.meshName), 'app.kubernetes.io/part-of': 'tessera' },
      },
      data: { [CA_ROOT_KEY]: data },
    };
    const applied = await this.opts.api.request<ConfigMap>('PATCH', this.path(ns), {
      body, contentType: 'application/apply-patch+yaml', query: { fieldManager: caRootManagedBy(this.opts.meshName), force: 'true' },
      timeoutMs: TIMEOUT_MS, label: `ConfigMap ${ns}/${this.name}`,
    });
    this.configMaps.set(ns, applied);
    this.opts.log.info('wrote the mesh CA ConfigMap', { configMap: `${ns}/${this.name}` });
  }

  private async remove(ns: string): Promise<void> {
    try {
      await this.opts.api.request('DELETE', this.path(ns), { timeoutMs: TIMEOUT_MS, label: `ConfigMap ${ns}/${this.name}` });
    } catch (e) {
      if (!(isMeshError(e) && e.code === 'MESH_ERR_NOT_FOUND')) throw e;
    }
    this.configMaps.delete(ns);
    this.opts.log.info('deleted the mesh CA ConfigMap: the namespace left the mesh', { configMap: `${ns}/${this.name}` });
  }
}
