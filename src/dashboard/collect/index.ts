/** What the dashboard shows, gathered from the mesh: the collector and the pure functions it is built from. */
export { Collector, LogFollower, MAX_RECENT_DECISIONS, podFactsOf, policyCounters, type CollectorOptions, type MeshReader } from './collector.js';
export { decisionOfLine, kindOfReason } from './decisions.js';
export { EdgeHistory } from './history.js';
export { parsePrometheus, type Sample } from './prom.js';
export { certificatesOf, chainsOf, proxyViewOf } from './proxies.js';
export { MESH_KINDS, resourceViewOf, statusLine } from './resources.js';
export { buildTopology, countersOf, deltaOf, percentiles, resolveCaller, type PodFacts } from './topology.js';
