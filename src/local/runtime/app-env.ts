/** The environment an app container's process sees: bind address, pod identity, its own env, the proxy. */
import type { Container, EnvVar } from '../../api/types.js';
import { join } from 'node:path';
import { MeshError } from '../../lib/errors.js';
import { SIDECAR_OUTBOUND_PORT, stateFiles, UPSTREAMS_FILE } from '../layout.js';
import type { ContainerContext, PodShape } from './types.js';

/** The first declared containerPort, or `fallback`. */
export function firstContainerPort(container: Container, fallback: number): number {
  return container.ports?.[0]?.containerPort ?? fallback;
}

/** Names the file where the sidecar lists its per-upstream TCP listeners ({"svc.ns:port": "ip:port"}). */
export const UPSTREAMS_FILE_ENV = 'TESSERA_UPSTREAMS_FILE';

/**
 * HOST/PORT tell the app where to bind (its pod's private address, so two pods can both use 8080);
 * with a sidecar, http_proxy sends its outbound HTTP through the mesh, as FSM's iptables would, and
 * TESSERA_UPSTREAMS_FILE tells an app that speaks plain TCP which local port reaches which service.
 */
export function appEnv(ctx: ContainerContext, port: number | undefined): Record<string, string> {
  const env: Record<string, string> = {
    HOST: ctx.appAddress,
    POD_NAME: ctx.pod.metadata.name,
    POD_NAMESPACE: ctx.pod.metadata.namespace,
    POD_IP: ctx.podIP,
  };
  if (port !== undefined) env.PORT = String(port);
  // In a sandbox the pod's traffic is intercepted: no proxy variables, no upstreams file.
  if (ctx.hasSidecar && !ctx.sandbox) {
    const proxy = `http://${ctx.appAddress}:${SIDECAR_OUTBOUND_PORT}`;
    Object.assign(env, { http_proxy: proxy, HTTP_PROXY: proxy, NO_PROXY: '', no_proxy: '' });
    env[UPSTREAMS_FILE_ENV] = join(stateFiles.podDir(ctx.stateDir, ctx.pod.metadata.namespace, ctx.pod.metadata.name), UPSTREAMS_FILE);
  }
  // The container's own env comes last: what the manifest says explicitly wins.
  return { ...env, ...specEnv(ctx) };
}

/**
 * The container's own env (values, downward-API fields, and Secret and ConfigMap keys when the
 * context can read them), as a kubelet resolves it. Throws MESH_ERR_NOT_FOUND for a missing
 * non-optional Secret, ConfigMap or key (the kubelet's CreateContainerConfigError).
 */
export function specEnv(ctx: ContainerContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of ctx.container.env ?? []) {
    const value = envValue(v, ctx);
    if (value !== undefined) env[v.name] = value;
  }
  return env;
}

/** A literal value, a downward-API field of the pod, or a key of a Secret or ConfigMap (others, such as resourceFieldRef, are left out). */
function envValue(v: EnvVar, ctx: ContainerContext): string | undefined {
  if (v.value !== undefined) return v.value;
  const from = v.valueFrom;
  if (from === undefined) return '';
  if (from.secretKeyRef) return keyRef(ctx, 'Secret', from.secretKeyRef);
  if (from.configMapKeyRef) return keyRef(ctx, 'ConfigMap', from.configMapKeyRef);
  const fieldPath = from.fieldRef?.fieldPath;
  if (fieldPath === undefined) return undefined;
  return podField(ctx.pod, fieldPath, { podIP: ctx.podIP });
}

/** One key of a Secret (base64 `data`, or `stringData`) or ConfigMap (`data`, or base64 `binaryData`) of the pod's namespace. */
function keyRef(ctx: ContainerContext, kind: 'Secret' | 'ConfigMap', ref: { name: string; key: string; optional?: boolean }): string | undefined {
  if (!ctx.objects) return undefined;
  const namespace = ctx.pod.metadata.namespace;
  const object = ctx.objects(kind, namespace, ref.name) as { data?: Record<string, string>; stringData?: Record<string, string>; binaryData?: Record<string, string> } | undefined;
  const what = kind === 'Secret' ? 'secret' : 'configmap';
  if (!object) {
    if (ref.optional === true) return undefined;
    throw new MeshError('MESH_ERR_NOT_FOUND', `${what} "${ref.name}" not found`);
  }
  const data = object.data?.[ref.key];
  const value = kind === 'Secret'
    ? data !== undefined ? Buffer.from(data, 'base64').toString('utf8') : object.stringData?.[ref.key]
    : data ?? (object.binaryData?.[ref.key] !== undefined ? Buffer.from(object.binaryData[ref.key]!, 'base64').toString('utf8') : undefined);
  if (value === undefined && ref.optional !== true) throw new MeshError('MESH_ERR_NOT_FOUND', `couldn't find key ${ref.key} in ${kind} ${namespace}/${ref.name}`);
  return value;
}

/** The value of a downward-API field of the pod, as the kubelet resolves it; undefined for a field it does not know. */
export function podField(pod: PodShape & { status?: { podIP?: string; hostIP?: string } }, fieldPath: string, extra: { podIP?: string; hostIP?: string } = {}): string | undefined {
  const m = pod.metadata ?? {};
  const indexed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (indexed) return (indexed[1] === 'labels' ? m.labels : m.annotations)?.[indexed[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return m.name ?? '';
    case 'metadata.namespace': return m.namespace ?? 'default';
    case 'metadata.uid': return m.uid ?? '';
    case 'metadata.labels': return Object.entries(m.labels ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
    case 'metadata.annotations': return Object.entries(m.annotations ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'status.podIP': return extra.podIP ?? pod.status?.podIP ?? '';
    case 'status.hostIP': return extra.hostIP ?? pod.status?.hostIP ?? '';
    default: return undefined;
  }
}
