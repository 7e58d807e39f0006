/** Compiles a proxy's AuthorizationPolicies once per snapshot into predicates (security-rules.md §1). */
import type { AuthzOperation, AuthzRule, AuthzSource } from '../api/istio-types.js';
import type { InboundAuthzPolicy, InboundExtAuthz } from '../snapshot/types.js';
import { compileCondition } from './conditions.js';
import type { RequestFacts } from './facts.js';
import { compileIpMatch } from './ip-match.js';
import { compileStringMatch } from './string-match.js';

type Predicate = (f: RequestFacts) => boolean;

export interface CompiledPolicy {
  name: string;
  action: InboundAuthzPolicy['Action'];
  provider: string | undefined;
  /** CUSTOM: the resolved external authorizer; absent means the provider is unknown (fail closed) */
  extAuthz: InboundExtAuthz | undefined;
  /** true when any rule matches; unset rules never match (§1 "rules") */
  matches: Predicate;
  /** rules that could not be compiled (fail closed: never match for ALLOW, always for DENY/CUSTOM) */
  problems: string[];
}

/** A field and its `not` form: the positive needs any value to match, the negative none (§1). */
function field<T>(pos: readonly string[] | undefined, neg: readonly string[] | undefined, get: (f: RequestFacts) => T, compile: (p: readonly string[]) => (v: T) => boolean): Predicate[] {
  const out: Predicate[] = [];
  if (pos) {
    const m = compile(pos);
    out.push((f) => m(get(f)));
  }
  if (neg) {
    const m = compile(neg);
    out.push((f) => !m(get(f)));
  }
  return out;
}

const str = (p: readonly string[]) => compileStringMatch(p);

function compileSource(s: AuthzSource): Predicate[] {
  return [
    ...field(s.principals, s.notPrincipals, (f) => f.sourcePrincipal, str),
    ...field(s.requestPrincipals, s.notRequestPrincipals, (f) => f.requestPrincipal, str),
    ...field(s.namespaces, s.notNamespaces, (f) => f.sourceNamespace, str),
    ...field(s.ipBlocks, s.notIpBlocks, (f) => f.sourceIp, compileIpMatch),
    // No trusted proxies are configured: the remote client is the socket peer, never XFF (§1).
    ...field(s.remoteIpBlocks, s.notRemoteIpBlocks, (f) => f.sourceIp, compileIpMatch),
  ];
}

function compilePorts(ports: readonly string[]): (p: number) => boolean {
  const set = new Set(ports.map(Number));
  return (p) => set.has(p);
}

function compileOperation(o: AuthzOperation): Predicate[] {
  return [
    // Hosts are case-insensitive and include the port (§1 "Operation fields").
    ...field(o.hosts, o.notHosts, (f) => f.host, (p) => compileStringMatch(p, true)),
    ...field(o.ports, o.notPorts, (f) => f.port, compilePorts),
    ...field(o.methods, o.notMethods, (f) => f.method, str),
    ...field(o.paths, o.notPaths, (f) => f.path, str),
  ];
}

const all = (ps: readonly Predicate[]): Predicate => (f) => ps.every((p) => p(f));
const any = (ps: readonly Predicate[]): Predicate => (f) => ps.some((p) => p(f));

/** (from empty OR any source) AND (to empty OR any operation) AND every condition (§1 "rules"). */
export function compileRule(r: AuthzRule): Predicate {
  const parts: Predicate[] = [];
  if (r.from && r.from.length > 0) parts.push(any(r.from.map((x) => all(compileSource(x.source ?? {})))));
  if (r.to && r.to.length > 0) parts.push(any(r.to.map((x) => all(compileOperation(x.operation ?? {})))));
  for (const c of r.when ?? []) parts.push(compileCondition(c));
  return all(parts);
}

export function compilePolicy(p: InboundAuthzPolicy): CompiledPolicy {
  const problems: string[] = [];
  // Fail closed on a rule the sidecar cannot read (§11 rule 3): it never allows, and it always denies.
  const broken: Predicate = p.Action === 'ALLOW' ? () => false : () => true;
  const rules = (p.Rules ?? []).map((r, i) => {
    try {
      return compileRule(r);
    } catch (e) {
      problems.push(`rules[${i}]: ${(e as Error).message}`);
      return broken;
    }
  });
  // An unknown provider cannot be asked; evaluation denies whatever the policy matches (§11 rule 3).
  if (p.Action === 'CUSTOM' && !p.ExtAuthz) problems.push(`extension provider ${JSON.stringify(p.Provider ?? '')} is not defined in MeshConfig spec.extensionProviders`);
  return { name: p.Name, action: p.Action, provider: p.Provider, extAuthz: p.ExtAuthz, matches: p.Rules === undefined ? () => false : any(rules), problems };
}

export function compilePolicies(policies: readonly InboundAuthzPolicy[]): CompiledPolicy[] {
  return policies.map(compilePolicy);
}
