/**
 * AuthorizationPolicy on TCP connections (security-rules.md §1 "TCP traffic", §11 rules 2-3): the
 * policies compiled once per snapshot without the HTTP-only fields, and one decision per connection.
 *
 * CUSTOM on TCP. The only provider kind Tessera knows, envoyExtAuthzHttp, asks about an HTTP request;
 * it cannot be asked about a byte stream. Istio's builder skips such a provider on a TCP filter chain
 * ("ignored CUSTOM action with HTTP provider on TCP filter chain"), which lets every connection the
 * policy meant to check through. Tessera fails closed instead: a CUSTOM policy whose rules match the
 * connection (HTTP-only fields dropped, as for DENY and as Istio's CUSTOM builder does) denies it.
 */
import { compilePolicies } from './compile.js';
import { customChecks, evaluate, groupPolicies, type CompiledAuthz } from './evaluate.js';
import type { Decision, RequestFacts } from './facts.js';
import type { InboundAuthzPolicy } from '../snapshot/types.js';

/** What is known about a connection, from verified sources only (§11 rule 4). */
export interface ConnectionFacts {
  /** the workload port the connection arrived on */
  port: number;
  /** the socket peer */
  sourceIp: string;
  /** the local address the connection arrived on */
  destinationIp?: string | undefined;
  /** from the verified mTLS peer certificate only */
  sourcePrincipal?: string | undefined;
  sourceNamespace?: string | undefined;
  /** the server name of a verified mTLS handshake */
  sni?: string | undefined;
}

const NO_HEADERS: RequestFacts['headers'] = Object.freeze({});

/** A connection has no request: the HTTP-only attributes are empty, and TCP-compiled rules never read them. */
export function connectionFacts(c: ConnectionFacts): RequestFacts {
  return { method: '', path: '', host: '', headers: NO_HEADERS, ...c };
}

/** The workload's policies compiled for TCP connections: once per snapshot, next to the HTTP ones. */
export function compileConnectionAuthz(policies: readonly InboundAuthzPolicy[]): CompiledAuthz {
  return groupPolicies(compilePolicies(policies, 'tcp'));
}

/**
 * Istio's order on a connection: CUSTOM (any matching CUSTOM policy denies, see above), then DENY,
 * then "no ALLOW policy means allow", then any ALLOW match, else deny. Pure: no I/O.
 */
export function authorizeConnection(authz: CompiledAuthz, facts: RequestFacts): Decision {
  if (authz.custom.length > 0) {
    const custom = customChecks(authz, facts);
    if (!Array.isArray(custom)) return custom;
    const first = custom[0];
    if (first) {
      return {
        allow: false,
        policy: first.policy,
        reason: `CUSTOM provider ${JSON.stringify(first.provider.Name)} is an HTTP authorizer and cannot check a TCP connection (failing closed)`,
      };
    }
  }
  return evaluate(authz, facts);
}
