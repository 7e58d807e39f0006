/**
 * The sidecar injection decision and the injected pod, as FSM's webhook makes them
 * (pkg/injector/webhook.go, patch.go): pure functions, so the rules are testable without a process.
 * The parts: init container (local/sandbox/init-step.ts), sidecar container and volume
 * (sidecar-spec.ts), probes (probes.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Container, Pod } from '../api/types.js';
import { SIDECAR_INJECTION_ANNOTATION } from '../api/types.js';
import { isMeshError, MeshError, type FieldProblem } from '../lib/errors.js';
import { PROXY_UUID_LABEL } from '../local/layout.js';
import { SIDECAR_CONTAINER_NAME, SIDECAR_IMAGE, hasSidecar } from '../local/controllers/well-known.js';
import { imageName } from '../local/runtime/image-name.js';
import { INIT_CONTAINER_NAME, initContainer } from '../local/sandbox/index.js';
import { webhookCoversNamespace } from './namespace-selector.js';
import { rewriteProbes } from './probes.js';
import type { MutationResponse, NamespaceInfo } from './protocol.js';
import {
  INJECTED_VOLUMES, SIDECAR_DATA_VOLUME, SIDECAR_RESERVED_PORTS, bootstrapVolumes, injectedMountPaths, sidecarContainer, sidecarDataVolume, type ClusterBootstrap,
} from './sidecar-spec.js';

const ENABLED = new Set(['enabled', 'yes', 'true']);
const DISABLED = new Set(['disabled', 'no', 'false']);

/** FSM refuses the pod when its (or its namespace's) injection annotation is not a yes or a no. */
export class InvalidInjectionAnnotation extends Error {
  constructor(objectKind: 'Pod' | 'Namespace', objectName: string, value: string) {
    super(`invalid annotation value for key "${SIDECAR_INJECTION_ANNOTATION}" specified for ${objectKind} '${objectName}': ${value}`);
    this.name = 'InvalidInjectionAnnotation';
  }
}

/** undefined when the annotation is absent; throws when it is neither a yes nor a no. */
function annotatedForInjection(annotations: Record<string, string> | undefined, kind: 'Pod' | 'Namespace', name: string): boolean | undefined {
  const value = annotations?.[SIDECAR_INJECTION_ANNOTATION];
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (ENABLED.has(v)) return true;
  if (DISABLED.has(v)) return false;
  throw new InvalidInjectionAnnotation(kind, name, value);
}

/**
 * FSM's `mustInject`: host-network pods and namespaces outside the webhook's selector never;
 * otherwise the pod's annotation decides when present, else the namespace's.
 */
export function mustInject(pod: Pod, namespace: NamespaceInfo, meshName: string): boolean {
  if ((pod.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true) return false;
  if (!webhookCoversNamespace(namespace, meshName)) return false;
  const podChoice = annotatedForInjection(pod.metadata.annotations, 'Pod', pod.metadata.name);
  if (podChoice !== undefined) return podChoice;
  return annotatedForInjection(namespace.annotations, 'Namespace', namespace.name) === true;
}

/** How the pod is injected; the defaults are what a Kubernetes pod needs. */
export interface MutateOptions {
  /**
   * Rewrite the app containers' probes to the sidecar's ports (probes.ts). Kubernetes needs it: the
   * kubelet probes the pod IP, which interception hands to the sidecar. The local runtimes probe an
   * app on its own address from the node side, past interception, so the local daemon's protocol
   * turns it off (server.ts).
   */
  rewriteProbes?: boolean;
  /**
   * Kubernetes mode (the AdmissionReview path): the sidecar gets the controller's Service URL, the
   * mesh CA from the ConfigMap `<mesh>-ca-root-cert` and a projected ServiceAccount token for the
   * controller (sidecar-spec.ts `clusterBootstrap`). The local runtimes start sidecars with a proxy
   * token of their own, so the daemon's protocol leaves it out.
   */
  bootstrap?: ClusterBootstrap;
}

/**
 * Returns the pod to create: a copy with what FSM's webhook adds — the proxy UUID label, the
 * `fsm-init` init container (interception rules), the `sidecar` container, its data volume and, for
 * Kubernetes, the app's probes rewritten to the sidecar — or the pod unchanged when it is not to be
 * injected. A copy of an injected pod (`kubectl debug --copy-to`) gets a new proxy UUID only, as FSM
 * does, so two proxies never share one. Throws InvalidInjectionAnnotation (the injection annotation)
 * or MeshError MESH_ERR_MANIFEST_INVALID naming each field that stops the injection.
 */
export function mutatePod(pod: Pod, namespace: NamespaceInfo, meshName: string, opts: MutateOptions = {}): MutationResponse {
  if (!mustInject(pod, namespace, meshName)) return { pod, injected: false };
  const out = structuredClone(pod);
  out.metadata.labels = { ...out.metadata.labels, [PROXY_UUID_LABEL]: randomUUID() };
  if (isInjected(pod)) return { pod: out, injected: true };

  const resource = `Pod ${namespace.name}/${pod.metadata.name}`;
  const problems = conflicts(pod, resource, opts.bootstrap);
  const spec = out.spec!;
  const probes = opts.rewriteProbes === false ? [] : rewriteProbes(spec.containers, resource, problems);
  let init: Container | undefined;
  try {
    init = initContainer(SIDECAR_IMAGE, pod.metadata.annotations);
  } catch (e) {
    if (!isMeshError(e)) throw e;
    // interception.ts names the annotation; the pod is named here
    problems.push(...e.problems.map((p) => ({ ...p, resource })));
  }
  if (problems.length > 0 || !init) {
    throw new MeshError('MESH_ERR_MANIFEST_INVALID', `cannot inject the sidecar into ${resource}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { problems });
  }
  // Appended, as FSM does: the pod's own init containers run before interception exists, so their
  // traffic is not redirected to a proxy that is not running yet.
  spec.initContainers = [...(spec.initContainers ?? []), init];
  spec.containers = [...spec.containers, sidecarContainer(SIDECAR_IMAGE, meshName, probes, opts.bootstrap)];
  spec.volumes = [...(spec.volumes ?? []), sidecarDataVolume(), ...(opts.bootstrap ? bootstrapVolumes(opts.bootstrap) : [])];
  return { pod: out, injected: true };
}

/** Whether the pod has a container named `sidecar` (ours or not: local callers treat it as the sidecar). */
export { hasSidecar };

/** Injected already: its `sidecar` container runs the mesh's sidecar image. */
function isInjected(pod: Pod): boolean {
  return (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME && imageName(c.image ?? '') === SIDECAR_IMAGE);
}

/**
 * What in the pod collides with what injection adds. The API server would refuse the patched pod for
 * a duplicate name anyway (container names are unique across containers and init containers);
 * refusing here says which field and why. An app port the sidecar listens on could not be bound.
 * In Kubernetes mode (`bootstrap`) also: a volume named like the CA or token volume, a container
 * mounting one of the injected volumes (the sidecar's token is not the app's), and a container
 * mounting something at, inside or just above a path the sidecar mounts (a pod's containers share
 * one mount namespace on `tessera node`, so such a mount would hide the sidecar's files or the app's).
 */
function conflicts(pod: Pod, resource: string, bootstrap: ClusterBootstrap | undefined): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const reserved = new Map([[SIDECAR_CONTAINER_NAME, 'the injected sidecar'], [INIT_CONTAINER_NAME, 'the injected init container']]);
  for (const list of ['containers', 'initContainers'] as const) {
    (pod.spec?.[list] ?? []).forEach((c, i) => {
      const what = reserved.get(c.name);
      if (what) problems.push({ resource, field: `spec.${list}[${i}].name`, message: `"${c.name}" is the name of ${what}; rename the container or annotate the pod ${SIDECAR_INJECTION_ANNOTATION}: disabled` });
    });
  }
  const injectedVolumes: string[] = bootstrap ? Object.values(INJECTED_VOLUMES) : [SIDECAR_DATA_VOLUME];
  (pod.spec?.volumes ?? []).forEach((v, i) => {
    if (injectedVolumes.includes(v.name)) problems.push({ resource, field: `spec.volumes[${i}].name`, message: `"${v.name}" is the name of a volume the sidecar injection adds (${injectedVolumes.join(', ')})` });
  });
  if (bootstrap) {
    const paths = injectedMountPaths(bootstrap);
    for (const list of ['containers', 'initContainers'] as const) {
      (pod.spec?.[list] ?? []).forEach((c, i) => {
        (c.volumeMounts ?? []).forEach((m, j) => {
          const field = `spec.${list}[${i}].volumeMounts[${j}]`;
          if (injectedVolumes.includes(m.name)) {
            problems.push({ resource, field: `${field}.name`, message: `"${m.name}" is a volume of the injected sidecar; only the sidecar mounts it` });
          }
          const clash = paths.find((p) => mountPathsClash(m.mountPath, p));
          if (clash) problems.push({ resource, field: `${field}.mountPath`, message: `${m.mountPath} clashes with ${clash}, where the injected sidecar mounts its files (${paths.join(', ')})` });
        });
      });
    }
  }
  (pod.spec?.containers ?? []).forEach((c, i) => {
    (c.ports ?? []).forEach((p, j) => {
      if ((p.protocol ?? 'TCP') === 'TCP' && SIDECAR_RESERVED_PORTS.includes(p.containerPort)) {
        problems.push({ resource, field: `spec.containers[${i}].ports[${j}].containerPort`, message: `${p.containerPort} is a port the injected sidecar listens on (${SIDECAR_RESERVED_PORTS.join(', ')})` });
      }
    });
  });
  return problems;
}

/** Directories above the injected mounts that apps commonly mount under (or are the file system's own): not a clash by themselves. */
const SHARED_PARENTS = new Set(['/', '/var', '/var/run', '/var/run/secrets', '/run']);

/** `mount` is the injected path, inside it, or a directory above it other than the shared ones. */
export function mountPathsClash(mount: string, injected: string): boolean {
  const a = mount.replace(/\/+$/, '') || '/';
  if (a === injected || a.startsWith(`${injected}/`)) return true;
  return injected.startsWith(a === '/' ? '/' : `${a}/`) && !SHARED_PARENTS.has(a);
}
