/**
 * The injected sidecar container and its data volume, after FSM's pipy driver
 * (pkg/sidecar/v1/providers/pipy/driver/pipy_container.go), for Tessera's sidecar process
 * (src/sidecar/main.ts reads the SIDECAR_ENV names, not FSM's POD_NAME…):
 *
 *  * runs as uid 1500 (the uid the init container's rules let out unredirected), non-root, without
 *    privilege escalation;
 *  * pod identity from the downward API: name, namespace, uid, IP, ServiceAccount and the proxy UUID
 *    label; the app's address is 127.0.0.1 (inbound traffic is delivered to the app over the pod's
 *    loopback) and inbound connections arrive on 15003 (transparent mode);
 *  * declared ports as FSM declares them: proxy-admin 15000 (it also serves /stats/prometheus),
 *    proxy-inbound 15003, and a probe port for each kind of probe rewritten to it. Not FSM's
 *    proxy-metrics 15010: this sidecar has no listener there, and a declared port is a scrape target;
 *  * an emptyDir for what the sidecar writes (last good snapshot, workload identity), mounted where
 *    the local namespace mode mounts it too.
 */
import type { Container, ContainerPort, EnvVar, Volume } from '../api/types.js';
import { PROXY_UUID_LABEL, SIDECAR_ENV } from '../local/layout.js';
import { SIDECAR_CONTAINER_NAME } from '../local/controllers/well-known.js';
import { SIDECAR_ADMIN_PORT, SIDECAR_INBOUND_PORT, SIDECAR_OUTBOUND_PORT, SIDECAR_PROXY_UID } from '../local/sandbox/index.js';
import { HEALTH_PROBES_ENV, HEALTHCHECK_PORT, PROBE_KINDS, PROBE_PORTS, serializeHealthProbes, type RewrittenProbe } from '../sidecar/health-probes/config.js';
import { SIDECAR_TRANSPARENT_ENV } from '../sidecar/listeners/transparent.js';

/** FSM's prefix keeps the name clear of the pod's own volumes. */
export const SIDECAR_DATA_VOLUME = 'fsm-sidecar-data';
/** Same path as the namespace-mode sandbox's sidecar mount (SIDECAR_DATA_MOUNT, runtime/sandbox-host.ts). */
export const SIDECAR_DATA_DIR = '/var/run/tessera/sidecar';

/** Ports the sidecar listens on in the pod's network namespace; an app container cannot declare them. */
export const SIDECAR_RESERVED_PORTS: readonly number[] = [SIDECAR_ADMIN_PORT, SIDECAR_OUTBOUND_PORT, SIDECAR_INBOUND_PORT, ...Object.values(PROBE_PORTS), HEALTHCHECK_PORT];

const PROBE_PORT_NAMES = { liveness: 'liveness-port', readiness: 'readiness-port', startup: 'startup-port' } as const;

const field = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

function sidecarPorts(probes: readonly RewrittenProbe[]): ContainerPort[] {
  const ports: ContainerPort[] = [
    { name: 'proxy-admin', containerPort: SIDECAR_ADMIN_PORT, protocol: 'TCP' },
    { name: 'proxy-inbound', containerPort: SIDECAR_INBOUND_PORT, protocol: 'TCP' },
  ];
  for (const kind of PROBE_KINDS) {
    if (probes.some((p) => p.kind === kind && p.target.scheme !== 'TCP')) ports.push({ name: PROBE_PORT_NAMES[kind], containerPort: PROBE_PORTS[kind], protocol: 'TCP' });
  }
  // FSM declares 15904 on its fsm-healthcheck container, unnamed; here the sidecar serves it
  if (probes.some((p) => p.target.scheme === 'TCP')) ports.push({ containerPort: HEALTHCHECK_PORT, protocol: 'TCP' });
  return ports;
}

export function sidecarContainer(image: string, meshName: string, probes: readonly RewrittenProbe[]): Container {
  const env: EnvVar[] = [
    { name: SIDECAR_ENV.meshName, value: meshName },
    field(SIDECAR_ENV.podUID, 'metadata.uid'),
    field(SIDECAR_ENV.podName, 'metadata.name'),
    field(SIDECAR_ENV.podNamespace, 'metadata.namespace'),
    field(SIDECAR_ENV.podIP, 'status.podIP'),
    field(SIDECAR_ENV.serviceAccount, 'spec.serviceAccountName'),
    field(SIDECAR_ENV.proxyUUID, `metadata.labels['${PROXY_UUID_LABEL}']`),
    { name: SIDECAR_ENV.localIP, value: '127.0.0.1' },
    { name: SIDECAR_TRANSPARENT_ENV, value: String(SIDECAR_INBOUND_PORT) },
    { name: SIDECAR_ENV.dataDir, value: SIDECAR_DATA_DIR },
  ];
  if (probes.length > 0) env.push({ name: HEALTH_PROBES_ENV, value: serializeHealthProbes(probes) });
  return {
    name: SIDECAR_CONTAINER_NAME,
    image,
    imagePullPolicy: 'IfNotPresent',
    ports: sidecarPorts(probes),
    env,
    volumeMounts: [{ name: SIDECAR_DATA_VOLUME, mountPath: SIDECAR_DATA_DIR }],
    securityContext: { runAsUser: SIDECAR_PROXY_UID, runAsNonRoot: true, allowPrivilegeEscalation: false },
  };
}

export function sidecarDataVolume(): Volume {
  return { name: SIDECAR_DATA_VOLUME, emptyDir: {} };
}
