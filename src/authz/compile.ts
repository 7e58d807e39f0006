/**
 * Compiles a proxy's AuthorizationPolicies once per snapshot into predicates (security-rules.md §1),
 * either for HTTP requests or for TCP connections (§1 "TCP traffic").
 */
import type { AuthzOperation, AuthzRule, AuthzSource } from '../api/istio-types.js';
import type { InboundAuthzPolicy, InboundExtAuthz } from '../snapshot/types.js';
import { compileCondition } from './conditions.js';
import type { RequestFacts } from './facts.js';
import { httpOnlyFieldsOf, isHttpOnlyConditionKey } from './http-only.js';
import { compileIpMatch } from './ip-match.js';
import { compileStringMatch } from './string-match.js';

type Predicate = (f: RequestFacts) => boolean;

/** One part of a rule and the name a denial gives it (`from[0].source.principals`, `when[1] request.auth.claims[scope]`). */
interface Check {
  label: string;
  test: Predicate;
}

/** A compiled rule: its predicate, and which of its parts a request fails (the first, for explaining a denial). */
export interface CompiledRule {
  matches: Predicate;
  /** the label of the first part the request fails; undefined when the rule matches */
  failed: (f: RequestFacts) => string | undefined;
}

/**
 * What the policies are compiled for. On `tcp` the HTTP-only fields (hosts, methods, paths,
 * requestPrincipals, `request.*` conditions) are left out of every rule, which makes a rule match
 * more: right for DENY and CUSTOM (fail closed). ALLOW and AUDIT rules that use them never match
 * instead (compilePolicy), as in Istio's builder (§1 "TCP traffic", §11 rule 3).
 */
export type Traffic = 'http' | 'tcp';

export interface CompiledPolicy {
  name: string;
  action: InboundAuthzPolicy['Action'];
  provider: string | undefined;
  /** CUSTOM: the resolved external authorizer; absent means the provider is unknown (fail closed) */
  extAuthz: InboundExtAuthz | undefined;
  /** true when any rule matches; unset rules never match (§1 "rules") */
  matches: Predicate;
  /** the rules one by one, for explaining a decision (which rule matched, which condition failed) */
  rules: readonly CompiledRule[];
  /** `istio.io/dry-run`: evaluated and reported as a shadow decision, never enforced */
  dryRun: boolean;
  /** rules that could not be compiled (fail closed: never match for ALLOW, always for DENY/CUSTOM) */
  problems: string[];
}

/** A field and its `not` form: the positive needs any value to match, the negative none (§1). */
function field<T>(name: string, pos: readonly string[] | undefined, neg: readonly string[] | undefined, get: (f: RequestFacts) => T, compile: (p: readonly string[]) => (v: T) => boolean): Check[] {
  const out: Check[] = [];
  if (pos) {
    const m = compile(pos);
    out.push({ label: name, test: (f) => m(get(f)) });
  }
  if (neg) {
    const m = compile(neg);
    out.push({ label: `not${name[0]!.toUpperCase()}${name.slice(1)}`, test: (f) => !m(get(f)) });
  }
  return out;
}

const str = (p: readonly string[]) => compileStringMatch(p);

const SOURCE_FIELDS = new Set(['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks']);
const OPERATION_FIELDS = new Set(['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths']);
const RULE_FIELDS = new Set(['from', 'to', 'when']);
const CONDITION_FIELDS = new Set(['key', 'values', 'notValues']);
const ACTIONS = new Set(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']);
const SOURCE_ENTRY = new Set(['source']);
const OPERATION_ENTRY = new Set(['operation']);

/**
 * The API refuses unknown fields at apply time; a snapshot that still carries one (a newer control
 * plane, a hand-edited file) must not be read as if the field were absent: a misspelt `principal`
 * would leave an empty source that matches every request. Throwing makes the rule fail closed.
 */
function onlyKnown(value: unknown, known: ReadonlySet<string>, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} is not an object`);
  for (const k of Object.keys(value)) if (!known.has(k)) throw new Error(`unknown field ${JSON.stringify(k)} in ${where}`);
  return value as Record<string, unknown>;
}

/** Every field of a source, operation or condition (but `key`) is a list of strings. */
function stringLists(o: Record<string, unknown>, where: string): void {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (k !== 'key' && v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) throw new Error(`${where}.${k} is not a list of strings`);
  }
}

function listOrAbsent(v: unknown, where: string): void {
  if (v !== undefined && !Array.isArray(v)) throw new Error(`${where} is not a list`);
}

function compileSource(s: AuthzSource, traffic: Traffic): Check[] {
  stringLists(onlyKnown(s, SOURCE_FIELDS, 'source'), 'source');
  return [
    ...field('principals', s.principals, s.notPrincipals, (f) => f.sourcePrincipal, str),
    ...(traffic === 'http' ? field('requestPrincipals', s.requestPrincipals, s.notRequestPrincipals, (f) => f.requestPrincipal, str) : []),
    ...field('namespaces', s.namespaces, s.notNamespaces, (f) => f.sourceNamespace, str),
    ...field('ipBlocks', s.ipBlocks, s.notIpBlocks, (f) => f.sourceIp, compileIpMatch),
    // No trusted proxies are configured: the remote client is the socket peer, never XFF (§1).
    ...field('remoteIpBlocks', s.remoteIpBlocks, s.notRemoteIpBlocks, (f) => f.sourceIp, compileIpMatch),
  ];
}

/** Ports are written as strings; anything but a port number fails the rule closed instead of matching nothing. */
function compilePorts(ports: readonly string[]): (p: number) => boolean {
  const set = new Set<number>();
  for (const p of ports) {
    const n = /^[0-9]{1,5}$/.test(p) ? Number(p) : NaN;
    if (!(n >= 0 && n <= 65535)) throw new Error(`port ${JSON.stringify(p)} is not a port number`);
    set.add(n);
  }
  return (p) => set.has(p);
}

/** How the sidecar's normalizer shapes the path policies see (MeshConfig pathNormalization). */
export interface CompileOptions {
  /** the path is lower-cased before matching (`caseInsensitive`): `paths` then match regardless of case, so `/Admin` still guards `/admin` */
  caseInsensitivePaths?: boolean;
}

function compileOperation(o: AuthzOperation, traffic: Traffic, opts: CompileOptions): Check[] {
  stringLists(onlyKnown(o, OPERATION_FIELDS, 'operation'), 'operation');
  const ports = field('ports', o.ports, o.notPorts, (f) => f.port, compilePorts);
  if (traffic === 'tcp') return ports;
  return [
    // Hosts are case-insensitive and include the port (§1 "Operation fields").
    ...field('hosts', o.hosts, o.notHosts, (f) => f.host, (p) => compileStringMatch(p, true)),
    ...ports,
    ...field('methods', o.methods, o.notMethods, (f) => f.method, str),
    ...field('paths', o.paths, o.notPaths, (f) => f.path, opts.caseInsensitivePaths ? (p) => compileStringMatch(p, true) : str),
  ];
}

const all = (ps: readonly Predicate[]): Predicate => (f) => ps.every((p) => p(f));
const any = (ps: readonly Predicate[]): Predicate => (f) => ps.some((p) => p(f));
const allChecks = (cs: readonly Check[]): Predicate => all(cs.map((c) => c.test));

/** `from` or `to`: matches when any of its entries does (each entry: all of its fields). */
const anyEntry = (kind: 'from' | 'to', entries: readonly Check[][]): Check => ({ label: kind, test: any(entries.map(allChecks)) });

const never: Predicate = () => false;

/**
 * (from empty OR any source) AND (to empty OR any operation) AND every condition (§1 "rules").
 * On `tcp` the HTTP-only fields are dropped; a source or operation left empty matches anything.
 */
export function compileRule(r: AuthzRule, traffic: Traffic = 'http', opts: CompileOptions = {}): Predicate {
  return compileRuleChecks(r, traffic, opts).matches;
}

function compileRuleChecks(r: AuthzRule, traffic: Traffic, opts: CompileOptions): CompiledRule {
  onlyKnown(r, RULE_FIELDS, 'rule');
  listOrAbsent(r.from, 'from');
  listOrAbsent(r.to, 'to');
  listOrAbsent(r.when, 'when');
  for (const [i, x] of (r.from ?? []).entries()) onlyKnown(x, SOURCE_ENTRY, `from[${i}]`);
  for (const [i, x] of (r.to ?? []).entries()) onlyKnown(x, OPERATION_ENTRY, `to[${i}]`);
  for (const [i, c] of (r.when ?? []).entries()) {
    stringLists(onlyKnown(c, CONDITION_FIELDS, `when[${i}]`), `when[${i}]`);
    if (typeof c.key !== 'string') throw new Error(`when[${i}].key is not a string`);
  }
  const parts: Check[] = [];
  const entryFailures: { kind: 'from' | 'to'; entries: Check[][] }[] = [];
  if (r.from && r.from.length > 0) {
    const entries = r.from.map((x) => compileSource(x.source ?? {}, traffic));
    parts.push(anyEntry('from', entries));
    entryFailures.push({ kind: 'from', entries });
  }
  if (r.to && r.to.length > 0) {
    const entries = r.to.map((x) => compileOperation(x.operation ?? {}, traffic, opts));
    parts.push(anyEntry('to', entries));
    entryFailures.push({ kind: 'to', entries });
  }
  for (const [i, c] of (r.when ?? []).entries()) {
    // compiled on both protocols, so an unknown key or bad value fails closed on TCP too
    const condition = compileCondition(c);
    if (traffic === 'http' || !isHttpOnlyConditionKey(c.key)) parts.push({ label: `when[${i}] ${c.key}`, test: condition });
  }
  const matches = allChecks(parts);
  const failed = (f: RequestFacts): string | undefined => {
    const part = parts.find((p) => !p.test(f));
    if (!part) return undefined;
    const entries = entryFailures.find((e) => e.kind === part.label)?.entries;
    if (!entries) return part.label;
    // name the field of the first entry that fails: with one entry (the usual case) that is exact
    const field = entries[0]!.find((c) => !c.test(f));
    const inner = part.label === 'from' ? 'source' : 'operation';
    return field ? `${part.label}[0].${inner}.${field.label}` : part.label;
  };
  return { matches, failed };
}

export function compilePolicy(p: InboundAuthzPolicy, traffic: Traffic = 'http', opts: CompileOptions = {}): CompiledPolicy {
  // An action the sidecar does not know, or rules that are not a list, leave the policy's intent
  // unknown: deny every request it could concern rather than drop it (dropping an ALLOW would allow all).
  if (!ACTIONS.has(p.Action) || (p.Rules !== undefined && !Array.isArray(p.Rules))) {
    const what = ACTIONS.has(p.Action) ? 'rules is not a list' : `action ${JSON.stringify(p.Action)} is not ALLOW, DENY, AUDIT or CUSTOM`;
    const matches = () => true;
    return { name: p.Name, action: 'DENY', provider: undefined, extAuthz: undefined, matches, rules: [{ matches, failed: () => undefined }], dryRun: false, problems: [`${what}: the policy denies every request (failing closed)`] };
  }
  const problems: string[] = [];
  // Fail closed on a rule the sidecar cannot read (§11 rule 3): it never allows, and it always denies.
  const broken: Predicate = p.Action === 'ALLOW' ? never : () => true;
  // §1 "TCP traffic": an ALLOW rule that needs request attributes can never be satisfied by a connection.
  const narrowsOnTcp = traffic === 'tcp' && (p.Action === 'ALLOW' || p.Action === 'AUDIT');
  const rules = (p.Rules ?? []).map((r, i): CompiledRule => {
    try {
      const rule = compileRuleChecks(r, traffic, opts);
      return narrowsOnTcp && httpOnlyFieldsOf(r).length > 0 ? { matches: never, failed: () => 'HTTP-only fields on a TCP connection' } : rule;
    } catch (e) {
      problems.push(`rules[${i}]: ${(e as Error).message}`);
      return { matches: broken, failed: () => 'rule cannot be evaluated (failing closed)' };
    }
  });
  // An unknown provider cannot be asked; evaluation denies whatever the policy matches (§11 rule 3).
  if (p.Action === 'CUSTOM' && !p.ExtAuthz) problems.push(`extension provider ${JSON.stringify(p.Provider ?? '')} is not defined in MeshConfig spec.extensionProviders`);
  // Istio's dry-run covers ALLOW and DENY only; on other actions the annotation is ignored.
  const dryRun = p.DryRun === true && (p.Action === 'ALLOW' || p.Action === 'DENY');
  return { name: p.Name, action: p.Action, provider: p.Provider, extAuthz: p.ExtAuthz, matches: p.Rules === undefined ? never : any(rules.map((r) => r.matches)), rules, dryRun, problems };
}

export function compilePolicies(policies: readonly InboundAuthzPolicy[], traffic: Traffic = 'http', opts: CompileOptions = {}): CompiledPolicy[] {
  return policies.map((p) => compilePolicy(p, traffic, opts));
}
