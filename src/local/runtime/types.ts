/** Types shared by the local pod runtime: how an image becomes a process and how readiness is judged. */
import type { Container, PodSpec, Resource } from '../../api/types.js';

/** A pod as far as image mapping cares: a Pod resource or a Deployment's pod template both fit. */
export interface PodShape {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: PodSpec;
}

/** Everything a runtime needs to turn one container of one running pod into a command. */
export interface ContainerContext {
  pod: PodShape & { metadata: { name: string; namespace: string } };
  container: Container;
  meshName: string;
  block: number;
  /** the mesh's secret key; proxy tokens are HMACs under it */
  meshKey: Uint8Array;
  /** absolute state directory */
  stateDir: string;
  /** where `tessera up` ran; local commands run here */
  workdir: string;
  podIP: string;
  /** the pod's private loopback address: its apps bind here */
  appAddress: string;
  /** true when the pod has an injected `sidecar` container */
  hasSidecar: boolean;
  /** namespace mode: the pod is a sandbox (pod IP on the mesh bridge, transparent interception) */
  sandbox?: SandboxContext;
  /**
   * The Secrets and ConfigMaps of the API, for env `valueFrom.secretKeyRef`/`configMapKeyRef` as a
   * kubelet resolves them; without it those variables are left out.
   */
  objects?: (kind: 'Secret' | 'ConfigMap', namespace: string, name: string) => Resource | undefined;
  /**
   * The Kubernetes API as the pod reaches the `kubernetes` Service: `tessera node` sets its API
   * server's URL; otherwise it is the embedded API of mesh.json.
   */
  apiUrl?: string;
}

/** What runtimes need to know about a sandboxed pod (pod-network.ts, sandbox-host.ts). */
export interface SandboxContext {
  /** the mesh bridge's gateway: the control plane's relay listens there */
  gateway: string;
  /** the sidecar's data directory as seen inside the pod */
  sidecarDataDir: string;
  /** the cluster CA (verifies the controller), as seen inside the pod */
  caFile: string;
}

/** How to tell that a container is ready. */
export type ReadinessCheck =
  | { kind: 'started' }
  | { kind: 'tcp'; host: string; ports: number[] }
  /** `headers`: a probe's httpHeaders (a rewritten TCP probe names its port in one) */
  | { kind: 'http'; url: string; headers?: Record<string, string> }
  /** an HTTPS GET whose server certificate must chain to `caFile` and name the URL's host: who answers, not just that something does */
  | { kind: 'https'; url: string; caFile: string }
  /** a pod's `httpGet` probe with `scheme: HTTPS`: as the kubelet, the certificate is not verified */
  | { kind: 'https-unverified'; url: string; headers?: Record<string, string> };

/** What to run for one container. `command` undefined means "no process" (e.g. a curl image). */
export interface ContainerCommand {
  command?: string;
  args: string[];
  /** variables added on top of the runtime's base environment */
  env: Record<string, string>;
  cwd?: string;
  readiness: ReadinessCheck;
}

export interface ImageRuntime {
  /** short name for logs and error messages */
  name: string;
  /** `pod` carries the annotations and labels some runtimes key on */
  matches(image: string, container: Container, pod: PodShape): boolean;
  command(ctx: ContainerContext): ContainerCommand;
}
