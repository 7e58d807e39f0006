/**
 * The node's kube-proxy part reads Services and Endpoints: this is its mirror of them (list, then
 * watch, re-listing as an informer does), shaped as the part of local mode's store the sandbox host
 * reads, so both runtimes share one sandbox host. The node's credentials need list/watch on both
 * (kube-proxy's `system:node-proxier` ClusterRole grants exactly that).
 */
import type { Resource } from '../api/types.js';
import type { StoreEvent, StoreKey } from '../local/store/types.js';
import type { ServiceSource } from '../local/runtime/sandbox-host.js';
import type { NodeApi } from './api.js';

const key = (o: Pick<Resource, 'kind' | 'metadata'>): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class ServiceMirror implements ServiceSource {
  #objects = new Map<string, Resource>();
  #handlers = new Set<(e: StoreEvent) => void>();
  #watch: { stop(): void };
  #synced: Promise<void>;

  constructor(api: NodeApi, log: (line: string) => void) {
    let resolve!: () => void;
    this.#synced = new Promise((r) => (resolve = r));
    this.#watch = api.listWatch([{ apiVersion: 'v1', plural: 'services' }, { apiVersion: 'v1', plural: 'endpoints' }], {
      onSync: (objects) => {
        const next = new Map(objects.map((o) => [key(o), o]));
        for (const [k, o] of this.#objects) if (!next.has(k)) this.#emit('DELETED', o);
        for (const [k, o] of next) if (this.#objects.get(k)?.metadata.resourceVersion !== o.metadata.resourceVersion) this.#emit('MODIFIED', o);
        this.#objects = next;
        resolve();
      },
      onChange: (type, o) => {
        if (type === 'DELETED') this.#objects.delete(key(o));
        else this.#objects.set(key(o), o);
        this.#emit(type, o);
      },
      onError: (e) => log(`node: services watch: ${e.message} (re-listing)`),
    });
  }

  /** Resolves once the first list has arrived. */
  synced(): Promise<void> {
    return this.#synced;
  }

  #emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource): void {
    const event = { type, object, revision: Number(object.metadata.resourceVersion ?? 0) } as StoreEvent;
    for (const h of this.#handlers) h(event);
  }

  get(k: StoreKey): Resource | undefined {
    return this.#objects.get(`${k.kind}/${k.namespace ?? ''}/${k.name}`);
  }

  list(kind: string, namespace?: string): Resource[] {
    return [...this.#objects.values()].filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
  }

  watch(handler: (e: StoreEvent) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  stop(): void {
    this.#watch.stop();
    this.#handlers.clear();
  }
}
