/** The names FSM's sidecar scripts look things up by: rules, clusters, hostnames, module paths. */
import type { MountPoint } from '../api/types.js';
import type { AppProtocol } from '../catalog/types.js';

/** FSM's "policy name" of a service: `svc.ns`. */
export function ruleName(namespace: string, service: string): string {
  return `${service}.${namespace}`;
}

/** The local cluster of an inbound service port: `ns/svc|targetPort|local`. */
export function inboundClusterName(namespace: string, service: string, targetPort: number): string {
  return `${namespace}/${service}|${targetPort}|local`;
}

/**
 * The upstream cluster of an outbound service port: `ns/svc|port`. Keyed by the service port (FSM
 * uses the targetPort), which is unique per Service and is what traffic-mirror-style plugins build.
 */
export function outboundClusterName(namespace: string, service: string, port: number): string {
  return `${namespace}/${service}|${port}`;
}

/** The fully qualified names of a service, shortest first, without the bare `svc`. */
export function qualifiedHostnames(namespace: string, service: string): string[] {
  const base = `${service}.${namespace}`;
  return [base, `${base}.svc`, `${base}.svc.cluster`, `${base}.svc.cluster.local`];
}

/** Every host and host:port that names this service port. */
export function hostnamesWithPorts(names: readonly string[], port: number): string[] {
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/**
 * The mount point whose plugins see traffic of this protocol. gRPC rides the HTTP chains (it is
 * HTTP/2); FSM derives `outbound-grpc`, which matches no chain, so gRPC services there never get
 * plugin config.
 */
export function mountPointFor<D extends 'inbound' | 'outbound'>(direction: D, protocol: AppProtocol): `${D}-http` | `${D}-tcp` {
  return protocol === 'tcp' ? `${direction}-tcp` : `${direction}-http`;
}

export function builtinModulePath(mountPoint: MountPoint, plugin: string): string {
  return `modules/${builtinModuleName(mountPoint, plugin)}.js`;
}

/** `inbound-tls-termination`: a built-in's plugin name prefixed with its direction. */
export function builtinModuleName(mountPoint: MountPoint, plugin: string): string {
  return `${mountPoint.split('-')[0]}-${plugin}`;
}

export function pluginModulePath(plugin: string): string {
  return `plugins/${plugin}.js`;
}
