/**
 * The Kubernetes-shaped resource model shared by the local store, the API server, the catalog and
 * the CLI. Field names follow Kubernetes and FSM so existing manifests apply unchanged.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/** Any resource. Kind-specific shapes below narrow `spec` and `status`. */
export interface Resource<Spec = unknown, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
  /** Secret and ConfigMap payloads. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

// ---------------------------------------------------------------------------------------------
// Label selectors (metav1.LabelSelector)

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

// ---------------------------------------------------------------------------------------------
// Core kinds

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
  nodePort?: number;
}

export interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  type?: string;
  clusterIP?: string;
}
export type Service = Resource<ServiceSpec>;

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

/** Where an env value comes from; `fieldRef` is the downward API (`metadata.name`, `status.podIP`, …). */
export interface EnvVarSource {
  fieldRef?: { fieldPath: string; apiVersion?: string };
  secretKeyRef?: { name: string; key: string; optional?: boolean };
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
  resourceFieldRef?: { resource: string; containerName?: string; divisor?: string };
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface HTTPHeader {
  name: string;
  value: string;
}

export interface Probe {
  /** `host` set: the kubelet probes that host instead of the pod IP */
  httpGet?: { path?: string; port: number | string; scheme?: string; host?: string; httpHeaders?: HTTPHeader[] };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  workingDir?: string;
  volumeMounts?: VolumeMount[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  imagePullPolicy?: string;
  resources?: unknown;
  securityContext?: SecurityContext;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  emptyDir?: Record<string, unknown>;
}

export interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  restartPolicy?: string;
  nodeName?: string;
}

export interface PodTemplateSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: unknown };
  spec: PodSpec;
}

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: unknown;
}

export interface DeploymentStatus {
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
}
export type Deployment = Resource<DeploymentSpec, DeploymentStatus>;

export interface PodCondition {
  type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ContainerStatus {
  name: string;
  image: string;
  ready: boolean;
  restartCount: number;
  started?: boolean;
  state?: {
    running?: { startedAt: string };
    waiting?: { reason: string; message?: string };
    terminated?: { exitCode: number; reason?: string; finishedAt?: string };
  };
  /** how the previous run ended (`message`: its termination message) */
  lastState?: {
    terminated?: { exitCode: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
  };
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  startTime?: string;
  conditions?: PodCondition[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}
export type Pod = Resource<PodSpec, PodStatus>;

export type Namespace = Resource<Record<string, never>, { phase?: string }>;
export type ServiceAccount = Resource<never>;
export type Secret = Resource<never>;
export type ConfigMap = Resource<never>;

// ---------------------------------------------------------------------------------------------
// FSM kinds

export interface BuiltinChainEntry {
  plugin: string;
  priority: number;
  disable: boolean;
}

export type MountPoint = 'inbound-http' | 'inbound-tcp' | 'outbound-http' | 'outbound-tcp';
export const MOUNT_POINTS: readonly MountPoint[] = ['inbound-http', 'inbound-tcp', 'outbound-http', 'outbound-tcp'];

export interface MeshConfigSpec {
  featureFlags?: {
    enablePluginPolicy?: boolean;
    enableAccessControlPolicy?: boolean;
    enableAccessCertPolicy?: boolean;
    enableSidecarPrettyConfig?: boolean;
    enableAutoDefaultRoute?: boolean;
    enableSidecarActiveHealthChecks?: boolean;
    [flag: string]: boolean | undefined;
  };
  traffic?: {
    enablePermissiveTrafficPolicyMode?: boolean;
    enableEgress?: boolean;
    /** Tessera addition: CONNECT tunnel destinations (`host:port`, `*.domain:port`, `host:*`); none by default */
    outboundConnectAllowList?: string[];
    http1PerRequestLoadBalancing?: boolean;
    http2PerRequestLoadBalancing?: boolean;
    [field: string]: unknown;
  };
  certificate?: {
    serviceCertValidityDuration?: string;
    certKeyBitSize?: number;
    [field: string]: unknown;
  };
  sidecar?: {
    logLevel?: string;
    sidecarTimeout?: number;
    [field: string]: unknown;
  };
  pluginChains?: Partial<Record<MountPoint, BuiltinChainEntry[]>>;
  observability?: unknown;
  /** Istio's MeshConfig.extensionProviders: external authorizers named by CUSTOM AuthorizationPolicies */
  extensionProviders?: ExtensionProvider[];
  /** Istio's MeshConfig.pathNormalization, plus Tessera options (docs/request-identity.md "Path normalization") */
  pathNormalization?: PathNormalizationSpec;
  [section: string]: unknown;
}

/**
 * Istio's `ProxyPathNormalization.NormalizationType` (DEFAULT is Tessera's default,
 * DECODE_AND_MERGE_SLASHES, stricter than Istio's BASE).
 */
export const PATH_NORMALIZATION_MODES = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const;
export type PathNormalizationMode = (typeof PATH_NORMALIZATION_MODES)[number];

export interface PathNormalizationSpec {
  normalization?: PathNormalizationMode | 'DEFAULT';
  /** Tessera extension: lower-case the path before matching and forwarding, for backends that ignore case */
  caseInsensitive?: boolean;
  /** Tessera extension: drop `;parameters` from path segments, for backends that ignore them (servlet containers) */
  stripPathParameters?: boolean;
  /** Tessera extension: drop a trailing slash (`/admin/` is `/admin`), for backends that route both alike */
  stripTrailingSlash?: boolean;
}

/** Istio's `envoyExtAuthzHttp` provider: an HTTP service whose 2xx allows and anything else denies. */
export interface EnvoyExtAuthzHttp {
  /** the authorizer's Service host (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`) */
  service: string;
  port: number;
  /** Go duration; default 2s */
  timeout?: string;
  pathPrefix?: string;
  includeRequestHeadersInCheck?: string[];
  headersToUpstreamOnAllow?: string[];
}
export interface ExtensionProvider {
  name: string;
  envoyExtAuthzHttp: EnvoyExtAuthzHttp;
}
export type MeshConfig = Resource<MeshConfigSpec>;

export interface PluginSpec {
  /** PipyJS source, run by the PipyJS compatibility runtime. */
  pipyscript?: string;
  /** A native TypeScript or JavaScript module written against Tessera's plugin API. */
  script?: string;
  priority?: number;
}
export type Plugin = Resource<PluginSpec, { currentStatus?: string; reason?: string }>;

export interface PluginChainSpec {
  chains: { name: MountPoint; plugins: string[] }[];
  selectors: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector };
}
export type PluginChain = Resource<PluginChainSpec>;

export interface ObjectReference {
  kind: string;
  name: string;
  namespace?: string;
  apiVersion?: string;
}

export interface PluginConfigSpec {
  plugin: string;
  destinationRefs: ObjectReference[];
  config: unknown;
}
export type PluginConfig = Resource<PluginConfigSpec>;

/** The label FSM uses to mark a namespace as part of a mesh. */
export const MONITORED_BY_LABEL = 'flomesh.io/monitored-by';
/** OSM's older spelling of the same label; set too so older selectors keep matching. */
export const OSM_MONITORED_BY_LABEL = 'openservicemesh.io/monitored-by';
export const SIDECAR_INJECTION_ANNOTATION = 'flomesh.io/sidecar-injection';
/** Names the local command that runs a container whose image Tessera has no local runtime for. */
export const LOCAL_COMMAND_ANNOTATION = 'local.tessera.dev/command';
