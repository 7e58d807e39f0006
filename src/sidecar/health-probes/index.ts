/**
 * The app's Kubernetes probes, served by the sidecar after the injector rewrote them to its ports
 * (FSM's liveness/readiness/startup listeners and fsm-healthcheck). config.ts: the injector → sidecar
 * contract (env TESSERA_HEALTH_PROBES); listener.ts: the ports.
 */
import { SIDECAR_ENV } from '../../local/layout.js';
import { HEALTH_PROBES_ENV, parseHealthProbes } from './config.js';
import { HealthProbeListeners } from './listener.js';

export * from './config.js';
export { HealthProbeListeners, probeListenPorts, type HealthProbeListenerOptions } from './listener.js';

/**
 * The listeners the sidecar's environment asks for, or undefined when no probe was rewritten.
 * `transparent`: the sidecar has the pod's network namespace to itself (interception), so it listens
 * on every address, the pod IP the kubelet probes included; otherwise (local loopback mode) on the
 * app's address, where the local runtime probes apps. Throws MESH_ERR_MANIFEST_INVALID on a bad list.
 */
export function healthProbesFromEnv(
  env: NodeJS.ProcessEnv,
  opts: { transparent: boolean; log?: (msg: string, fields?: Record<string, unknown>) => void },
): HealthProbeListeners | undefined {
  const probes = parseHealthProbes(env[HEALTH_PROBES_ENV]);
  if (probes.length === 0) return undefined;
  const appAddress = env[SIDECAR_ENV.localIP] || '127.0.0.1';
  return new HealthProbeListeners({ probes, appAddress, bindAddress: opts.transparent ? '0.0.0.0' : appAddress, ...(opts.log ? { log: opts.log } : {}) });
}
