/** The environment an app container's process sees: bind address, pod identity, its own env, the proxy. */
import type { Container, EnvVar } from '../../api/types.js';
import { join } from 'node:path';
import { UPSTREAMS_FILE } from '../../sidecar/listeners/upstreams.js';
import { SIDECAR_OUTBOUND_PORT, stateFiles } from '../layout.js';
import type { ContainerContext } from './types.js';

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
  for (const v of ctx.container.env ?? []) {
    const value = envValue(v, ctx);
    if (value !== undefined) env[v.name] = value;
  }
  return env;
}

/** A literal value, or the few downward-API fields that make sense locally. */
function envValue(v: EnvVar, ctx: ContainerContext): string | undefined {
  if (v.value !== undefined) return v.value;
  const fieldPath = (v.valueFrom as { fieldRef?: { fieldPath?: string } } | undefined)?.fieldRef?.fieldPath;
  switch (fieldPath) {
    case 'metadata.name':
      return ctx.pod.metadata.name;
    case 'metadata.namespace':
      return ctx.pod.metadata.namespace;
    case 'status.podIP':
      return ctx.podIP;
    case 'spec.serviceAccountName':
      return ctx.pod.spec?.serviceAccountName ?? 'default';
    default:
      return v.valueFrom === undefined ? '' : undefined;
  }
}
