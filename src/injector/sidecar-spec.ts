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
 *    the local namespace mode mounts it too;
 *  * Kubernetes mode only (`ClusterBootstrap`, the AdmissionReview path): how it finds and proves
 *    itself to the controller without anything minted by Tessera's own runtimes — the controller's
 *    Service URL, the mesh CA from the ConfigMap `<mesh>-ca-root-cert` and a projected ServiceAccount
 *    token for the audience `<mesh>-controller` (sidecar/config/cluster-bootstrap.ts has the contract).
 */
import type { Container, ContainerPort, EnvVar, Volume, VolumeMount } from '../api/types.js';
import { CONTROLLER_PORT, PROXY_UUID_LABEL, SIDECAR_ENV } from '../local/layout.js';
import { SIDECAR_CONTAINER_NAME } from '../local/controllers/well-known.js';
import { SIDECAR_ADMIN_PORT, SIDECAR_INBOUND_PORT, SIDECAR_OUTBOUND_PORT, SIDECAR_PROXY_UID } from '../local/sandbox/index.js';
import { HEALTH_PROBES_ENV, HEALTHCHECK_PORT, PROBE_KINDS, PROBE_PORTS, serializeHealthProbes, type RewrittenProbe } from '../sidecar/health-probes/config.js';
import { SIDECAR_TRANSPARENT_ENV } from '../sidecar/listeners/transparent.js';
import { SIDECAR_NODE_FLAGS } from '../sidecar/node-flags.js';
import {
  CA_ROOT_FILE, CA_ROOT_KEY, CA_ROOT_MOUNT_PATH, CA_ROOT_VOLUME, PROXY_TOKEN_EXPIRATION_SECONDS, PROXY_TOKEN_FILE,
  PROXY_TOKEN_MOUNT_PATH, PROXY_TOKEN_PATH, PROXY_TOKEN_VOLUME, caRootConfigMapName, controllerServiceUrl, controllerTokenAudience,
} from '../sidecar/config/cluster-bootstrap.js';

/** FSM's prefix keeps the name clear of the pod's own volumes. */
export const SIDECAR_DATA_VOLUME = 'fsm-sidecar-data';
/** Same path as the namespace-mode sandbox's sidecar mount (SIDECAR_DATA_MOUNT, runtime/sandbox-host.ts). */
export const SIDECAR_DATA_DIR = '/var/run/tessera/sidecar';

/** Ports the sidecar listens on in the pod's network namespace; an app container cannot declare them. */
export const SIDECAR_RESERVED_PORTS: readonly number[] = [SIDECAR_ADMIN_PORT, SIDECAR_OUTBOUND_PORT, SIDECAR_INBOUND_PORT, ...Object.values(PROBE_PORTS), HEALTHCHECK_PORT];

/**
 * Kubernetes mode: where the sidecar finds the controller and what it proves itself with. The local
 * runtimes (the daemon's protocol) set these themselves, with a proxy token minted from the mesh key.
 */
export interface ClusterBootstrap {
  /** `https://<mesh>-controller.<mesh>-system.svc:6060` */
  controllerUrl: string;
  /** `<mesh>-ca-root-cert` */
  caConfigMap: string;
  /** `<mesh>-controller` */
  audience: string;
}

export function clusterBootstrap(meshName: string): ClusterBootstrap {
  return { controllerUrl: controllerServiceUrl(meshName, CONTROLLER_PORT), caConfigMap: caRootConfigMapName(meshName), audience: controllerTokenAudience(meshName) };
}

/** The names of the volumes injection adds (a pod of its own must not use them). */
export const INJECTED_VOLUMES = { data: SIDECAR_DATA_VOLUME, caRoot: CA_ROOT_VOLUME, proxyToken: PROXY_TOKEN_VOLUME } as const;

/** A pod volume with the `projected` source (api/types.ts's Volume lists the sources local mode uses). */
export interface InjectedVolume extends Volume {
  projected?: { sources: { serviceAccountToken: { audience: string; expirationSeconds: number; path: string } }[] };
}

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

export function sidecarContainer(image: string, meshName: string, probes: readonly RewrittenProbe[], bootstrap?: ClusterBootstrap): Container {
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
    // the V8 flags the local runtime passes on its command line; the image's node reads them here
    { name: 'NODE_OPTIONS', value: SIDECAR_NODE_FLAGS.join(' ') },
  ];
  if (bootstrap) {
    env.push(
      { name: SIDECAR_ENV.controllerUrl, value: bootstrap.controllerUrl },
      { name: SIDECAR_ENV.controllerCa, value: CA_ROOT_FILE },
      { name: SIDECAR_ENV.proxyTokenFile, value: PROXY_TOKEN_FILE },
    );
  }
  if (probes.length > 0) env.push({ name: HEALTH_PROBES_ENV, value: serializeHealthProbes(probes) });
  const mounts: VolumeMount[] = [{ name: SIDECAR_DATA_VOLUME, mountPath: SIDECAR_DATA_DIR }];
  if (bootstrap) {
    mounts.push(
      { name: CA_ROOT_VOLUME, mountPath: CA_ROOT_MOUNT_PATH, readOnly: true },
      { name: PROXY_TOKEN_VOLUME, mountPath: PROXY_TOKEN_MOUNT_PATH, readOnly: true },
    );
  }
  return {
    name: SIDECAR_CONTAINER_NAME,
    image,
    imagePullPolicy: 'IfNotPresent',
    ports: sidecarPorts(probes),
    env,
    volumeMounts: mounts,
    securityContext: { runAsUser: SIDECAR_PROXY_UID, runAsNonRoot: true, allowPrivilegeEscalation: false },
  };
}

export function sidecarDataVolume(): Volume {
  return { name: SIDECAR_DATA_VOLUME, emptyDir: {} };
}

/** Kubernetes mode: the mesh CA from the namespace's ConfigMap, and the projected ServiceAccount token for the controller. */
export function bootstrapVolumes(bootstrap: ClusterBootstrap): InjectedVolume[] {
  return [
    { name: CA_ROOT_VOLUME, configMap: { name: bootstrap.caConfigMap, items: [{ key: CA_ROOT_KEY, path: CA_ROOT_KEY }] } },
    {
      name: PROXY_TOKEN_VOLUME,
      projected: { sources: [{ serviceAccountToken: { audience: bootstrap.audience, expirationSeconds: PROXY_TOKEN_EXPIRATION_SECONDS, path: PROXY_TOKEN_PATH } }] },
    },
  ];
}

/** Where the injected sidecar mounts each volume (for the clash rules: mutation.ts). */
export function injectedMountPaths(bootstrap: ClusterBootstrap | undefined): string[] {
  return bootstrap ? [SIDECAR_DATA_DIR, CA_ROOT_MOUNT_PATH, PROXY_TOKEN_MOUNT_PATH] : [SIDECAR_DATA_DIR];
}
