/** The catalog's shapes: pure indexed views over one store revision, from which per-proxy snapshots are compiled. */
import type { AuthorizationPolicy, RequestAuthentication } from '../api/istio-types.js';
import type { Sidecar } from '../api/networking-types.js';
import type { AccessControl } from '../api/policy-types.js';
import type { Telemetry } from '../api/telemetry-types.js';
import type { UpstreamTrafficSetting } from '../api/upstream-traffic-types.js';
import type { OutlierDetectionSettings, RouteTimeout } from '../api/traffic-annotations.js';
import type { Retry, TrafficSplit } from '../api/traffic-types.js';
import type {
  BuiltinChainEntry,
  MeshConfigSpec,
  MountPoint,
  Plugin,
  PluginChain,
  Pod,
  Resource,
} from '../api/types.js';

/** Compiled plugin code, produced outside the pure core (the control plane compiles `spec.script`). */
export interface PluginSource {
  kind: 'native' | 'pipy';
  source: string;
  /** sha256 of `source` */
  hash: string;
}

export interface CompileInput {
  /** e.g. 'fsm'; the MeshConfig is `${meshName}-mesh-config` in `${meshName}-system` */
  meshName: string;
  /** everything in the store */
  resources: readonly Resource[];
  /** compiled plugin code by plugin name */
  pluginSources: ReadonlyMap<string, PluginSource>;
}

/** A meshed pod: one that carries the `fsm-proxy-uuid` label. */
export interface ProxyRef {
  namespace: string;
  name: string;
  uuid: string;
  ip?: string;
}

export type AppProtocol = 'http' | 'tcp' | 'grpc';

/** A ready backend of a service port. */
export interface ServiceEndpoint {
  podName: string;
  ip: string;
  /** the targetPort resolved against this pod (a named targetPort may differ per pod) */
  port: number;
}

/** One port of one Service (FSM's MeshService). */
export interface ServicePortInfo {
  namespace: string;
  name: string;
  port: number;
  /**
   * The port number the backends listen on. A named targetPort resolves through the selected pods'
   * containerPorts (the first pod by name that declares it); undefined when no selected pod declares it.
   */
  targetPort: number | undefined;
  /** the targetPort's name when the Service gave a name, so each pod can resolve its own number */
  targetPortName?: string;
  protocol: AppProtocol;
  /** ready endpoints, sorted by ip then port */
  endpoints: ServiceEndpoint[];
}

/** One UDP port of a Service: UDP is not proxied like TCP, only filtered by SMI UDPRoutes (snapshot/udp.ts). */
export interface UdpPortInfo {
  port: number;
  /** numeric targetPort; undefined when the Service names a container port (see `targetPortName`) */
  targetPort: number | undefined;
  targetPortName?: string;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  /** `spec.clusterIP`, absent for headless (`None`) or unset */
  clusterIP?: string;
  /** true when the Service's namespace is in the mesh */
  meshed: boolean;
  /** TCP ports only (UDP and SCTP are skipped for now), in spec order */
  ports: ServicePortInfo[];
  /** UDP ports, in spec order; only SMI UDPRoutes use them */
  udpPorts: UdpPortInfo[];
  /** keys (`ns/name`) of every pod the selector matches, ready or not, sorted */
  selectedPods: string[];
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** labelled `flomesh.io/monitored-by=<meshName>` */
  meshed: boolean;
}

/** The MeshConfig merged over the chart defaults, with the values the compiler reads pulled out. */
export interface ResolvedMeshConfig {
  spec: MeshConfigSpec;
  enablePluginPolicy: boolean;
  /** FSM chart default true: AccessControls are compiled only when on */
  enableAccessControlPolicy: boolean;
  enablePermissiveTrafficPolicyMode: boolean;
  enableEgress: boolean;
  /** `spec.traffic.outboundConnectAllowList`: where CONNECT tunnels may go (empty: nowhere but mesh TCP services) */
  outboundConnectAllowList: string[];
  http1PerRequestLoadBalancing: boolean;
  http2PerRequestLoadBalancing: boolean;
  enableSidecarActiveHealthChecks: boolean;
  enableAutoDefaultRoute: boolean;
  /** Tessera flag: PluginChains without namespaceSelector apply to every namespace, as in FSM */
  enablePluginChainClusterScope: boolean;
  sidecarLogLevel: string;
  sidecarTimeout: number;
  builtinChains: Record<MountPoint, BuiltinChainEntry[]>;
}

/** Ports an SMI TCPRoute/UDPRoute rule allows: every port, or these (sorted; empty allows none). */
export type SmiPorts = 'all' | number[];

/** An HTTPRouteGroup match resolved for a route: pathRegex (`.*` when absent), methods (absent = any), headers (lower-case names). */
export interface SmiHttpMatch {
  path: string;
  methods?: string[];
  headers?: Record<string, string>;
}

/** A TrafficTarget with its rules resolved against the route specs of its namespace. */
export interface ResolvedTrafficTarget {
  /** `ns/name` of the TrafficTarget */
  key: string;
  /** destination identity `sa.ns` */
  destination: string;
  /** source identities `sa.ns`, sorted */
  sources: string[];
  /** absent: the target has no HTTPRouteGroup rule; else the matches its rules pick (maybe none) */
  http?: SmiHttpMatch[];
  /** absent: no TCPRoute rule */
  tcpPorts?: SmiPorts;
  /** absent: no UDPRoute rule */
  udpPorts?: SmiPorts;
}

export interface SmiPolicy {
  /** destination identity → its TrafficTargets, sorted by `ns/name` */
  byDestination: ReadonlyMap<string, readonly ResolvedTrafficTarget[]>;
  /** source identity → the TrafficTargets listing it, sorted by `ns/name` */
  bySource: ReadonlyMap<string, readonly ResolvedTrafficTarget[]>;
}

/** Istio security policies (security-rules.md §1, §2), each list sorted by namespace then name. */
export interface IstioPolicies {
  requestAuthentications: readonly RequestAuthentication[];
  authorizationPolicies: readonly AuthorizationPolicy[];
  /** Telemetry objects (access-log rules) */
  telemetries: readonly Telemetry[];
  /** networking Sidecars (outbound scope) */
  sidecars: readonly Sidecar[];
}

export interface Catalog {
  meshName: string;
  meshConfig: ResolvedMeshConfig;
  namespaces: ReadonlyMap<string, NamespaceInfo>;
  /** by `ns/name` */
  pods: ReadonlyMap<string, Pod>;
  /** every Service, sorted by namespace then name */
  services: readonly ServiceInfo[];
  /** services in mesh namespaces, sorted by namespace then name */
  meshServices: readonly ServiceInfo[];
  /** pod key → mesh services whose selector matches the pod (sorted) */
  meshServicesByPod: ReadonlyMap<string, readonly ServiceInfo[]>;
  /** Plugin objects by name */
  plugins: ReadonlyMap<string, Plugin>;
  /** sorted by namespace then name */
  pluginChains: readonly PluginChain[];
  /** `plugin|ns/svc` → PluginConfig.spec.config (first PluginConfig by namespace/name wins) */
  pluginConfigByTarget: ReadonlyMap<string, unknown>;
  pluginSources: ReadonlyMap<string, PluginSource>;
  /** sorted by namespace then name */
  proxies: readonly ProxyRef[];
  /** SMI TrafficTargets; only read when permissive traffic policy mode is off */
  smi: SmiPolicy;
  /** AccessControls sorted by namespace then name; empty when `enableAccessControlPolicy` is off */
  accessControls: readonly AccessControl[];
  /** Istio RequestAuthentication and AuthorizationPolicy objects; the snapshot picks those that apply per pod */
  istio: IstioPolicies;
  /** UpstreamTrafficSettings by the service (`ns/svc`) their host names */
  upstreamTrafficSettings: ReadonlyMap<string, UpstreamTrafficSetting>;
  /** Retry and TrafficSplit objects (docs/traffic-management.md) */
  traffic: TrafficPolicies;
}

/** The traffic-management kinds, indexed for the outbound compiler. */
export interface TrafficPolicies {
  /** source identity `sa.ns` → its Retries, sorted by `ns/name` (the first naming a destination wins) */
  retriesBySource: ReadonlyMap<string, readonly Retry[]>;
  /** root service `ns/name` → its TrafficSplit (the first by `ns/name`) */
  splitByRoot: ReadonlyMap<string, TrafficSplit>;
  /** Service `ns/name` → its request timeouts by path prefix (annotation), longest prefix first */
  timeoutsByService: ReadonlyMap<string, readonly RouteTimeout[]>;
  /** Service `ns/name` → its outlier detection (annotation); absent: off */
  outlierByService: ReadonlyMap<string, OutlierDetectionSettings>;
}
