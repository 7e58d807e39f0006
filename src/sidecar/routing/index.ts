/** Routing tables compiled per snapshot and their request-time lookups. */
export { buildTables, nextEndpoint } from './tables.js';
export type { ClusterTable, CompiledRoute, CompiledServiceRule, OutsideClientRoute, PortTable, RoutingTables, TcpRule } from './tables.js';
export { findRoute, findServiceRule, outsideClientRoute, parseAuthority, resolveService } from './lookup.js';
export type { Authority, RouteChoice } from './lookup.js';
