/**
 * The per-proxy snapshot: what the control plane computes for one sidecar and what
 * `tessera proxy get config_dump` prints. Its shape follows FSM's `config.json` (PipyConf) so that
 * `jq '.Chains."outbound-http"'` and PipyJS plugins reading `__service`, `__route`, `__cluster`
 * see what they see on FSM. It never contains a private key.
 *
 * Tessera additions are `Pod`, `Dns` and `PluginScripts`; for SMI (permissive mode off),
 * `TcpServiceRule.AllowedServices`, `Inbound.UdpAllowed` and `Inbound.IdentityByIP`; and in every mode
 * `ClusterConfig.ServiceIdentities` and, with AccessControl, `InboundTrafficMatch.AccessControlRoute`
 * (FSM's `*` host rule); with Istio policies `Inbound.Authn` and `Inbound.Authz`. Identities are
 * FSM's `sa.ns` everywhere except inside Istio policies, which use Istio's principal form.
 */
import type { AuthzAction, AuthzRule, JwtRule } from '../api/istio-types.js';
import type { MountPoint, PathNormalizationMode } from '../api/types.js';
import type { ConnectionSettings, HeaderRateLimit, HttpRateLimitConfig, RouteRateLimit, TcpRateLimitConfig } from './upstream-traffic.js';

export type RouteMatchType = 'Regex' | 'Exact' | 'Prefix';

export interface RouteRule {
  Path: string;
  Type: RouteMatchType;
  /** header name (lower case) → regex */
  Headers?: Record<string, string>;
  Methods?: string[];
  /** cluster name → weight */
  TargetClusters: Record<string, number>;
  /**
   * Identities (`sa.ns`, sorted) allowed; absent means anyone (permissive mode). Inbound with SMI, a
   * request is allowed when ANY route matching it (method, full-match path regex, header regexes)
   * lists the caller's mTLS identity: FSM keys its route tree by identity (fsm-design.md §2.6), so a
   * route that matches but does not list the caller must not hide a later one that does. A request
   * no route allows gets 403.
   */
  AllowedServices?: string[];
}

export interface HttpServiceRule {
  RouteRules: RouteRule[];
  /** Tessera addition, outbound: request timeouts by path prefix, longest first (Service annotation) */
  RequestTimeouts?: RequestTimeoutConfig[];
  /** plugin name → PluginConfig.spec.config for this destination service */
  Plugins?: Record<string, unknown>;
  /** inbound, UpstreamTrafficSetting `rateLimit.local.http`: every request to the service takes a token */
  RateLimit?: HttpRateLimitConfig;
  /** inbound, UpstreamTrafficSetting `httpRoutes` (Tessera: path regex over the request path) */
  RouteRateLimits?: RouteRateLimit[];
  /** inbound, UpstreamTrafficSetting `httpHeaders` (Tessera extension) */
  HeaderRateLimits?: HeaderRateLimit[];
}

export interface HostRef {
  RuleName: string;
  Service?: string;
}

export interface TcpServiceRule {
  TargetClusters: Record<string, number>;
  AllowedEgressTraffic?: boolean;
  Plugins?: Record<string, unknown>;
  /**
   * Inbound with SMI only (permissive mode off): identities (`sa.ns`, sorted) whose mTLS peers a
   * TCPRoute lets connect to this port; anyone else's connection is closed. Empty (and TargetClusters
   * empty) when no TrafficTarget allows the port. Absent means anyone (permissive mode, and outbound).
   */
  AllowedServices?: string[];
}

/** How a client outside the mesh from one source range must connect (FSM's `SourceSecuritySpec`). */
export interface SourceSecuritySpec {
  mTLS: boolean;
  SkipClientCertValidation: boolean;
  /**
   * Certificate names (CN or any SAN) let in, sorted; `*` admits any certificate that chains to the
   * mesh CA (Tessera still verifies the chain when `SkipClientCertValidation` is set).
   */
  AuthenticatedPrincipals: string[];
}

/** CIDR → null (plaintext admitted from that range) or the mTLS the range must speak. */
export type SourceIPRanges = Record<string, SourceSecuritySpec | null>;

export interface InboundTrafficMatch {
  /** the port the sidecar listens on for this match (the service's targetPort) */
  Port: number;
  Protocol: 'http' | 'tcp' | 'grpc';
  /**
   * AccessControl (fsm-design.md §1.4): clients outside the mesh let in on this port, by the source
   * address of the socket (never a header). Absent when no AccessControl applies.
   */
  SourceIPRanges?: SourceIPRanges;
  /**
   * AccessControl: where a client that `SourceIPRanges` let in goes, in every traffic mode. Present
   * when some range admits anyone on this port.
   */
  AccessControlRoute?: AccessControlRoute;
  /** host or host:port → rule */
  HttpHostPort2Service?: Record<string, HostRef>;
  HttpServiceRouteRules?: Record<string, HttpServiceRule>;
  TcpServiceRouteRules?: Record<string, TcpServiceRule>;
  /** UpstreamTrafficSetting `rateLimit.local.tcp` of the port's (TCP) service: each connection takes a token */
  RateLimit?: TcpRateLimitConfig;
}

/**
 * The route of clients outside the mesh that an AccessControl let in (FSM's `*` host rule with its
 * wildcard route and no AllowedServices, fsm-design.md §1.4): any request or connection of such a
 * client, whatever its Host, goes to `TargetClusters`. It is taken only by a peer without a mesh
 * identity whose socket address lies in one of the port's `SourceIPRanges` (plaintext ranges only
 * while mTLS is off, since nothing then checks a certificate); mesh clients always stay under SMI.
 */
export interface AccessControlRoute {
  /**
   * the service (`svc.ns`) such clients are served as: the first on this port whose AccessControl
   * admits anyone; its `HttpServiceRouteRules` / `TcpServiceRouteRules` entry gives the plugins
   */
  RuleName: string;
  /** the service's local cluster → 100 */
  TargetClusters: Record<string, number>;
}

export interface OutboundTrafficMatch {
  Port: number;
  Protocol: 'http' | 'tcp' | 'grpc';
  /** virtual service address(es) that select this match, as CIDRs */
  DestinationIPRanges?: Record<string, null>;
  HttpHostPort2Service?: Record<string, HostRef>;
  HttpServiceRouteRules?: Record<string, HttpServiceRule>;
  TcpServiceRouteRules?: Record<string, TcpServiceRule>;
}

export interface EndpointConfig {
  Weight: number;
}

export interface ClusterConfig {
  Endpoints: Record<string, EndpointConfig>;
  /** Tessera addition: eject endpoints that keep failing (Service annotation); absent: off */
  OutlierDetection?: OutlierDetectionConfig;
  /**
   * Outbound: the identities (`sa.ns`, sorted) of the pods behind `Endpoints`, in every mode. The
   * outbound side originates mTLS and accepts the server only if its certificate holds one of them
   * (FSM never checks, fsm-design.md §2.6). Always set by the compiler; empty when there are no endpoints.
   */
  ServiceIdentities?: string[];
  /** UpstreamTrafficSetting `connectionSettings` of the service (src/snapshot/upstream-traffic.ts) */
  ConnectionSettings?: ConnectionSettings;
  RetryPolicy?: unknown;
}

/** A request timeout for paths under `Prefix` (docs/traffic-management.md "Timeouts"). */
export interface RequestTimeoutConfig {
  Prefix: string;
  /** seconds; 0: none */
  Timeout: number;
}

/** Envoy-style outlier detection of one cluster; times in seconds (docs/traffic-management.md). */
export interface OutlierDetectionConfig {
  Consecutive5xx: number;
  ConsecutiveGatewayFailure: number;
  BaseEjectionTime: number;
  MaxEjectionTime: number;
  MaxEjectionPercent: number;
}

export interface PluginScript {
  /**
   * `native` runs `spec.script` (compiled to JS by the control plane); `pipy` runs `spec.pipyscript`;
   * `builtin` is a plugin the sidecar ships (src/plugins/builtin.ts), Source being only its name.
   */
  Kind: 'native' | 'pipy' | 'builtin';
  Priority: number;
  /** sha256 of Source */
  Hash: string;
  /** JavaScript (native, already compiled from TypeScript) or PipyJS source */
  Source: string;
}

export interface ProxyIdentity {
  Name: string;
  Namespace: string;
  ServiceAccount: string;
  IP: string;
  UID: string;
  Labels: Record<string, string>;
}

export interface SnapshotPathNormalization {
  Normalization: PathNormalizationMode;
  LowerCase: boolean;
  StripPathParameters: boolean;
  /** present (true) only when set, so snapshots written before the option stay as they were */
  StripTrailingSlash?: true;
}

/** One JWT rule of a RequestAuthentication that selects this pod (security-rules.md §2). */
export interface InboundJwtRule {
  /** `ns/name` of the RequestAuthentication */
  Policy: string;
  /** the rule as written, without `timeout` and `clockSkew` */
  Rule: Omit<JwtRule, 'timeout' | 'clockSkew'>;
  /** JWKS fetch timeout in ms, from `timeout` (absent: 5 s) */
  TimeoutMs?: number;
  /** exp/nbf/iat tolerance from the Tessera extension `clockSkew` (absent: 60 s) */
  ClockSkewSeconds?: number;
}

/** A MeshConfig `envoyExtAuthzHttp` provider, resolved for the sidecar (defaults filled in). */
export interface InboundExtAuthz {
  /** the provider's name in MeshConfig */
  Name: string;
  Service: string;
  Port: number;
  TimeoutMs: number;
  /** prepended to the request path; "" when unset */
  PathPrefix: string;
  /** lower-case; absent: authorization, cookie and every x-* header */
  IncludeRequestHeaders?: string[];
  /** lower-case; copied from a 2xx answer onto the forwarded request */
  HeadersToUpstreamOnAllow: string[];
}

/** One AuthorizationPolicy that applies to this pod (security-rules.md §1). */
export interface InboundAuthzPolicy {
  /** `ns/name` */
  Name: string;
  Action: AuthzAction;
  /** CUSTOM only */
  Provider?: string;
  /** CUSTOM only: the provider resolved from MeshConfig; absent when unknown (the sidecar fails closed) */
  ExtAuthz?: InboundExtAuthz;
  /** absent: the policy never matches; `[{}]` always matches (§1 "rules") */
  Rules?: AuthzRule[];
  /** `istio.io/dry-run: "true"`: evaluated and reported as a shadow decision, never enforced; absent when false */
  DryRun?: true;
}

export interface ProxySnapshot {
  Metrics: boolean;
  Spec: {
    ServiceIdentity: string;
    SidecarLogLevel: string;
    /** seconds; connect, read, write and idle timeout */
    SidecarTimeout: number;
    Traffic: {
      EnableEgress: boolean;
      HTTP1PerRequestLoadBalancing: boolean;
      HTTP2PerRequestLoadBalancing: boolean;
      /** Tessera addition (MeshConfig spec.traffic.outboundConnectAllowList): CONNECT destinations; absent: none */
      OutboundConnectAllowList?: string[];
    };
    FeatureFlags: { EnableSidecarActiveHealthChecks: boolean; EnableAutoDefaultRoute: boolean; EnablePluginPolicy: boolean };
    /** FSM's `spec.sidecar.sidecarDisabledMTLS`: plaintext between sidecars (default false: mTLS on every mesh hop) */
    SidecarDisabledMTLS: boolean;
    /**
     * Tessera addition: MeshConfig `pathNormalization` as every HTTP listener applies it; absent when
     * the MeshConfig leaves it unset (DECODE_AND_MERGE_SLASHES, case and `;` parameters kept)
     */
    PathNormalization?: SnapshotPathNormalization;
  };
  Pod: ProxyIdentity;
  Inbound: {
    /** keyed by targetPort (FSM keys by port; see fsm-design.md §2.2) */
    TrafficMatches: Record<string, InboundTrafficMatch>;
    /** cluster → { 'ip:port' → weight } */
    ClustersConfigs: Record<string, Record<string, number>>;
    /**
     * SMI mode only (UDPRoute rules): the pod's own UDP port (where the app listens, i.e. the Service's
     * targetPort) → identities (`sa.ns`, sorted) whose pods may send datagrams to it. UDP carries no
     * certificate, so the sidecar maps the datagram's source address to an identity with
     * `IdentityByIP` and forwards only what this allows. A port not listed gets nothing forwarded;
     * absent means no UDP at all (permissive mode does not forward UDP either).
     */
    UdpAllowed?: Record<string, string[]>;
    /**
     * Present with `UdpAllowed`: pod IP → identity (`sa.ns`) of every live meshed pod holding an
     * identity listed there. An IP two live pods claim is left out (it cannot be attributed).
     */
    IdentityByIP?: Record<string, string>;
    /** Tessera addition: the JWT rules of every RequestAuthentication selecting this pod, merged as one (root namespace first); absent when none */
    Authn?: { JwtRules: InboundJwtRule[] };
    /** Tessera addition: the AuthorizationPolicies applying to this pod (root namespace first); absent when none */
    Authz?: { Policies: InboundAuthzPolicy[] };
  };
  Outbound: {
    /** keyed by service port */
    TrafficMatches: Record<string, OutboundTrafficMatch[]>;
    ClustersConfigs: Record<string, ClusterConfig>;
    /**
     * Tessera addition: present when this Outbound (and `Dns`) carries only the Services in the
     * proxy's scope (snapshot/scope.ts); says what narrowed it, for the sidecar's refusals
     */
    Scope?: OutboundScopeMarker;
  };
  /** pod IP → `ns.podName` for every meshed pod */
  AllowedEndpoints: Record<string, string>;
  Chains: Record<MountPoint, string[]>;
  /** scripts of the plugins mounted on this proxy, by plugin name */
  PluginScripts: Record<string, PluginScript>;
  /**
   * What cluster DNS would answer, for every Service with ready endpoints (meshed or not) in the
   * proxy's outbound scope (all of them when `Outbound.Scope` is absent):
   * `svc.ns.svc.cluster.local` → service port → endpoints `ip:targetPort`.
   */
  Dns: Record<string, Record<string, string[]>>;
  /**
   * The cluster IP of every Service with ready endpoints → its `svc.ns.svc.cluster.local`: what an
   * intercepted connection's original destination names when the app dialed a Service by its
   * address. Never scoped: an address it maps to a name `Dns` lacks is a Service outside the
   * proxy's scope, which the sidecar refuses instead of sending it out as egress.
   */
  ServiceIPs: Record<string, string>;
  /**
   * Tessera addition: the access-log rule of each side, from the most specific Telemetry that has
   * one (workload, namespace, then the root namespace). Absent when no Telemetry applies: every
   * request and connection is logged.
   */
  AccessLog?: { Inbound: AccessLogRule; Outbound: AccessLogRule };
}

/** What narrowed a proxy's outbound scope. */
export interface OutboundScopeMarker {
  /** `ns/name` of the networking Sidecar whose `egress[].hosts` apply */
  Sidecar?: string;
  /** permissive mode off: only services backed by identities TrafficTargets let this proxy reach */
  TrafficTargets?: true;
}

/** What the sidecar writes to its access log on one side; refusals are written whatever it says. */
export interface AccessLogRule {
  /** `ns/name` of the Telemetry that decided; absent: no Telemetry covers this side (log everything) */
  Policy?: string;
  /** nothing but refusals */
  Disabled?: boolean;
  /** a CEL expression over Envoy's attributes; only matching lines are written */
  Filter?: string;
  /** the percentage (0–100) of the lines that pass the filter which are written; absent: 100 */
  SamplePercent?: number;
}

/** What delivery carries: the snapshot plus its content-hash version. */
export interface VersionedSnapshot {
  version: string;
  snapshot: ProxySnapshot;
}
