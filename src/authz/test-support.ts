/** Test-only fixtures for the evaluator tests (not exported from index.ts). */
import type { RequestFacts } from './index.js';

/** A GET of /todos/1 on todos.default:8080 from 10.0.0.5 to 10.0.0.9 with no headers, and `over` on top. */
export const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/todos/1',
  host: 'todos.default:8080',
  port: 8080,
  sourceIp: '10.0.0.5',
  destinationIp: '10.0.0.9',
  headers: {},
  ...over,
});
/** What a verified mTLS peer (sa reminder in namespace default) adds to the facts. */
export const mtls = { sourcePrincipal: 'cluster.local/ns/default/sa/reminder', sourceNamespace: 'default' };
