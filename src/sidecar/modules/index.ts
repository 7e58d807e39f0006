/** The built-in modules by the path FSM gives them in `Chains`. */
import type { HttpModuleFactory, TcpModuleFactory } from './env.js';
import { httpDefault } from './http-default.js';
import { httpLoadBalancing } from './http-load-balancing.js';
import { inboundHttpRouting, outboundHttpRouting } from './http-routing.js';
import { loggingHttp, metricsHttp, tracingHttp } from './observability.js';
import { passThrough } from './pass-through.js';
import { inboundTcpRoutingWithAuthz } from './inbound-tcp-authz.js';
import { outboundTcpRouting, tcpDefault, tcpLoadBalancing } from './tcp.js';
import { outboundCircuitBreaker, withOutboundTcpConnectionLimit } from './circuit-breaker.js';
import { inboundThrottleRoute, inboundThrottleService, withInboundTcpThrottle } from './throttle.js';

export type { ModuleEnv, HttpModuleFactory, TcpModuleFactory } from './env.js';
export { kTunnel } from './http-load-balancing.js';
export type { Tunnelable } from './http-load-balancing.js';

export const HTTP_MODULES: Readonly<Record<string, HttpModuleFactory>> = {
  'modules/inbound-tls-termination.js': passThrough,
  'modules/inbound-http-routing.js': inboundHttpRouting,
  'modules/inbound-metrics-http.js': metricsHttp,
  'modules/inbound-tracing-http.js': tracingHttp,
  'modules/inbound-logging-http.js': loggingHttp,
  'modules/inbound-throttle-service.js': inboundThrottleService,
  'modules/inbound-throttle-route.js': inboundThrottleRoute,
  'modules/inbound-http-load-balancing.js': httpLoadBalancing,
  'modules/inbound-http-default.js': httpDefault,
  'modules/outbound-http-routing.js': outboundHttpRouting,
  'modules/outbound-metrics-http.js': metricsHttp,
  'modules/outbound-tracing-http.js': tracingHttp,
  'modules/outbound-logging-http.js': loggingHttp,
  'modules/outbound-circuit-breaker.js': outboundCircuitBreaker,
  'modules/outbound-http-load-balancing.js': httpLoadBalancing,
  'modules/outbound-http-default.js': httpDefault,
};

export const TCP_MODULES: Readonly<Record<string, TcpModuleFactory>> = {
  'modules/inbound-tls-termination.js': passThrough,
  // routing, then Istio AuthorizationPolicy on the connection (as inbound-http-routing ends with authn/authz)
  // then UpstreamTrafficSetting's TCP connection rate limit (no Chains entry of its own in FSM)
  'modules/inbound-tcp-routing.js': withInboundTcpThrottle(inboundTcpRoutingWithAuthz),
  'modules/inbound-tcp-load-balancing.js': tcpLoadBalancing,
  'modules/inbound-tcp-default.js': tcpDefault,
  'modules/outbound-tcp-routing.js': outboundTcpRouting,
  // with UpstreamTrafficSetting tcp.maxConnections per cluster
  'modules/outbound-tcp-load-balancing.js': withOutboundTcpConnectionLimit(tcpLoadBalancing),
  'modules/outbound-tcp-default.js': tcpDefault,
};
