/**
 * The per-proxy snapshot: what the control plane computes for one sidecar and what
 * `tessera proxy get config_dump` prints. Its shape follows FSM's `config.json` (PipyConf) so that
 * `jq '.Chains."outbound-http"'` and PipyJS plugins reading `__service`, `__route`, `__cluster`
 * see what they see on FSM. It never contains a private key.
 *
 * Tessera additions are `Pod`, `Dns` and `PluginScripts`.
 */
import type { MountPoint } from '../api/types.js';

export type RouteMatchType = 'Regex' | 'Exact' | 'Prefix';

export interface RouteRule {
  Path: string;
  Type: RouteMatchType;
  /** header name (lower case) → regex */
  Headers?: Record<string, string>;
  Methods?: string[];
  /** cluster name → weight */
  TargetClusters: Record<string, number>;
  /** identities (`sa.ns`) allowed; absent means anyone */
  AllowedServices?: string[];
}

export interface HttpServiceRule {
  RouteRules: RouteRule[];
  /** plugin name → PluginConfig.spec.config for this destination service */
  Plugins?: Record<string, unknown>;
}

export interface HostRef {
  RuleName: string;
  Service?: string;
}

export interface TcpServiceRule {
  TargetClusters: Record<string, number>;
  AllowedEgressTraffic?: boolean;
  Plugins?: Record<string, unknown>;
}

export interface InboundTrafficMatch {
  /** the port the sidecar listens on for this match (the service's targetPort) */
  Port: number;
  Protocol: 'http' | 'tcp' | 'grpc';
  /** host or host:port → rule */
  HttpHostPort2Service?: Record<string, HostRef>;
  HttpServiceRouteRules?: Record<string, HttpServiceRule>;
  TcpServiceRouteRules?: Record<string, TcpServiceRule>;
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
  ConnectionSettings?: unknown;
  RetryPolicy?: unknown;
}

export interface PluginScript {
  /** `native` runs `spec.script` (compiled to JS by the control plane); `pipy` runs `spec.pipyscript`. */
  Kind: 'native' | 'pipy';
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

export interface ProxySnapshot {
  Metrics: boolean;
  Spec: {
    ServiceIdentity: string;
    SidecarLogLevel: string;
    /** seconds; connect, read, write and idle timeout */
    SidecarTimeout: number;
    Traffic: { EnableEgress: boolean; HTTP1PerRequestLoadBalancing: boolean; HTTP2PerRequestLoadBalancing: boolean };
    FeatureFlags: { EnableSidecarActiveHealthChecks: boolean; EnableAutoDefaultRoute: boolean; EnablePluginPolicy: boolean };
  };
  Pod: ProxyIdentity;
  Inbound: {
    /** keyed by targetPort (FSM keys by port; see fsm-design.md §2.2) */
    TrafficMatches: Record<string, InboundTrafficMatch>;
    /** cluster → { 'ip:port' → weight } */
    ClustersConfigs: Record<string, Record<string, number>>;
  };
  Outbound: {
    /** keyed by service port */
    TrafficMatches: Record<string, OutboundTrafficMatch[]>;
    ClustersConfigs: Record<string, ClusterConfig>;
  };
  /** pod IP → `ns.podName` for every meshed pod */
  AllowedEndpoints: Record<string, string>;
  Chains: Record<MountPoint, string[]>;
  /** scripts of the plugins mounted on this proxy, by plugin name */
  PluginScripts: Record<string, PluginScript>;
  /**
   * What cluster DNS would answer, for every Service with ready endpoints (meshed or not):
   * `svc.ns.svc.cluster.local` → service port → endpoints `ip:targetPort`.
   */
  Dns: Record<string, Record<string, string[]>>;
}

/** What delivery carries: the snapshot plus its content-hash version. */
export interface VersionedSnapshot {
  version: string;
  snapshot: ProxySnapshot;
}
