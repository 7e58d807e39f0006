/** Test builders for Kubernetes-shaped resources: short calls that read like the manifests they stand for. */
import { createHash } from 'node:crypto';
import type {
  LabelSelector,
  MeshConfigSpec,
  MountPoint,
  Namespace,
  Plugin,
  PluginChain,
  PluginConfig,
  Pod,
  Resource,
  Service,
  ServicePort,
} from '../../api/types.js';
import type { CompileInput, PluginSource } from '../../catalog/types.js';

export const MONITORED = { 'flomesh.io/monitored-by': 'fsm' };

export function namespace(name: string, labels: Record<string, string> = {}, annotations?: Record<string, string>): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, ...(annotations ? { annotations } : {}) } };
}

export function meshedNamespace(name: string, annotations?: Record<string, string>): Namespace {
  return namespace(name, { ...MONITORED }, annotations);
}

export function meshConfig(spec: MeshConfigSpec, meshName = 'fsm'): Resource<MeshConfigSpec> {
  return {
    apiVersion: 'config.flomesh.io/v1alpha3',
    kind: 'MeshConfig',
    metadata: { name: `${meshName}-mesh-config`, namespace: `${meshName}-system` },
    spec,
  };
}

export interface PodOptions {
  labels?: Record<string, string>;
  ip?: string;
  ready?: boolean;
  serviceAccount?: string;
  /** no fsm-proxy-uuid label */
  unmeshed?: boolean;
  ports?: { name?: string; containerPort: number }[];
  annotations?: Record<string, string>;
  uid?: string;
}

/** A running pod. Meshed (with a proxy uuid derived from its name) and ready unless told otherwise. */
export function pod(ns: string, name: string, opts: PodOptions = {}): Pod {
  const labels = { ...(opts.labels ?? {}) };
  if (!opts.unmeshed) labels['fsm-proxy-uuid'] = `uuid-${ns}-${name}`;
  const ready = opts.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: opts.uid ?? `uid-${ns}-${name}`,
      labels,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      ...(opts.serviceAccount ? { serviceAccountName: opts.serviceAccount } : {}),
      containers: [{ name: 'app', image: 'example/app', ...(opts.ports ? { ports: opts.ports } : {}) }],
    },
    status: {
      phase: 'Running',
      ...(opts.ip ? { podIP: opts.ip } : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

export function service(ns: string, name: string, ports: ServicePort[], selector: Record<string, string>, clusterIP?: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { selector, ports, ...(clusterIP ? { clusterIP } : {}) },
  };
}

export function plugin(name: string, priority?: number): Plugin {
  return {
    apiVersion: 'plugin.flomesh.io/v1alpha1',
    kind: 'Plugin',
    metadata: { name },
    spec: { pipyscript: `// ${name}`, ...(priority === undefined ? {} : { priority }) },
  };
}

export function pluginChain(
  ns: string,
  name: string,
  chains: Partial<Record<MountPoint, string[]>>,
  selectors: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector },
): PluginChain {
  return {
    apiVersion: 'plugin.flomesh.io/v1alpha1',
    kind: 'PluginChain',
    metadata: { name, namespace: ns },
    spec: {
      chains: Object.entries(chains).map(([mp, plugins]) => ({ name: mp as MountPoint, plugins: plugins! })),
      selectors,
    },
  };
}

export function pluginConfig(
  ns: string,
  name: string,
  pluginName: string,
  destinations: { name: string; namespace?: string; kind?: string }[],
  config: unknown,
): PluginConfig {
  return {
    apiVersion: 'plugin.flomesh.io/v1alpha1',
    kind: 'PluginConfig',
    metadata: { name, namespace: ns },
    spec: {
      plugin: pluginName,
      destinationRefs: destinations.map((d) => ({ kind: d.kind ?? 'Service', name: d.name, ...(d.namespace ? { namespace: d.namespace } : {}) })),
      config,
    },
  };
}

export function pipySource(source: string): PluginSource {
  return { kind: 'pipy', source, hash: createHash('sha256').update(source).digest('hex') };
}

/** Sources for every Plugin among `resources`, as the control plane would pass them in. */
export function sourcesFor(resources: readonly Resource[]): Map<string, PluginSource> {
  const out = new Map<string, PluginSource>();
  for (const r of resources) {
    if (r.kind === 'Plugin') out.set(r.metadata.name, pipySource((r as Plugin).spec?.pipyscript ?? ''));
  }
  return out;
}

export function input(resources: Resource[], meshName = 'fsm'): CompileInput {
  return { meshName, resources, pluginSources: sourcesFor(resources) };
}
