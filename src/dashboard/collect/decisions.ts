/**
 * Refusals from a sidecar's log (docs/access-log.md): every refused request or connection is
 * written whatever the access-log rules say, with `"denied"` (a policy, a JWT, a limit, a plugin),
 * `"refused"` (nowhere to go), or as FSM's 403 for a route nobody allows (SMI: status 403, no
 * upstream, no `"denied"`). Connections the AccessControl check turns away before any chain runs
 * appear only as the sidecar's own warnings. Only configuration and the caller's verified principal
 * are carried over: the log never holds a token or a header value, and neither does a Decision.
 */
import type { Decision, DecisionKind } from '../model.js';

export interface LogSource {
  namespace: string;
  pod: string;
  workload: string;
}

type Line = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The kind of check that refused, from the reason's prefix (the sidecar's modules name themselves). */
export function kindOfReason(reason: string, status?: number): DecisionKind {
  if (reason.startsWith('authentication:')) return 'JWT';
  if (reason.startsWith('authorization:') || reason.startsWith('custom:')) return 'AuthorizationPolicy';
  if (reason.startsWith('local rate limit:') || status === 429) return 'RateLimit';
  if (reason.startsWith('circuit breaker open:') || reason.startsWith('upstream overflow:')) return 'CircuitBreaker';
  return 'Plugin';
}

/** The policy a reason names when the line has no `policy` field (TCP refusals, circuit breakers). */
function policyOfReason(reason: string, kind: DecisionKind): { policy?: string; rule?: string } {
  const named = /; policy (\S+)(?: rule (\d+))?/.exec(reason);
  if (named) return { policy: named[1]!, ...(named[2] !== undefined ? { rule: named[2] } : {}) };
  if (kind === 'CircuitBreaker') {
    const m = /^(?:circuit breaker open|upstream overflow): (\S+)/.exec(reason);
    if (m) return { policy: m[1]! };
  }
  if (kind === 'AuthorizationPolicy') {
    // TCP: `authorization: ns/name <why>`
    const m = /^authorization: ([a-z0-9.-]+\/[a-z0-9.-]+) /.exec(reason);
    if (m) return { policy: m[1]! };
  }
  if (kind === 'JWT') {
    const m = /token rejected by ([a-z0-9.-]+\/[a-z0-9.-]+)/.exec(reason);
    if (m) return { policy: m[1]! };
  }
  return {};
}

/** The principal a reason line names (`; principal <p>`), the only caller fact it carries. */
function principalOfReason(reason: string): string | undefined {
  return /; principal (\S+)/.exec(reason)?.[1];
}

const ACCESS_CONTROL_WARNINGS = new Set(['plaintext connection refused: mesh traffic must use mTLS', 'mTLS peer has no mesh identity']);

/**
 * One log line as a Decision, or undefined when it is not a refusal (or not JSON). `seq` makes the id
 * unique among lines of the same pod with the same timestamp.
 */
export function decisionOfLine(text: string, from: LogSource, seq: number): Decision | undefined {
  // a line may carry a prefix (`--timestamps`); the sidecar's own text starts at the brace
  const brace = text.indexOf('{');
  if (brace < 0) return undefined;
  let l: Line;
  try {
    l = JSON.parse(text.slice(brace)) as Line;
  } catch {
    return undefined;
  }
  if (typeof l !== 'object' || l === null) return undefined;
  const time = str(l['time']) ?? new Date(0).toISOString();
  const base = { id: `${from.namespace}/${from.pod}#${time}#${seq}`, time, namespace: from.namespace, workload: from.workload, pod: from.pod };
  if (l['type'] !== 'access') {
    const msg = str(l['msg']);
    if (!msg || !ACCESS_CONTROL_WARNINGS.has(msg)) return undefined;
    const d: Decision = { ...base, direction: 'inbound', protocol: 'tcp', kind: 'AccessControl', reason: `${msg} (no AccessControl admits this client)` };
    const peer = str(l['peer']);
    if (peer) d.authority = typeof l['port'] === 'number' ? `${peer}:${l['port']}` : peer;
    return d;
  }
  const denied = str(l['denied']);
  const refused = str(l['refused']);
  const status = typeof l['status'] === 'number' ? l['status'] : undefined;
  const protocol = l['protocol'] === 'tcp' ? 'tcp' : 'http';
  const smi = !denied && !refused && protocol === 'http' && status === 403 && l['upstream'] === null;
  if (!denied && !refused && !smi) return undefined;
  let kind: DecisionKind;
  let reason: string;
  if (denied) {
    kind = kindOfReason(denied, status);
    reason = denied;
  } else if (refused) {
    kind = 'Other';
    reason = `no route: ${refused}`;
  } else {
    kind = 'SMI';
    reason = 'no SMI TrafficTarget (or route) allows this request: FSM\'s 403 Access denied';
  }
  const d: Decision = { ...base, direction: l['direction'] === 'outbound' ? 'outbound' : 'inbound', protocol, kind, reason };
  const named = policyOfReason(reason, kind);
  const policy = str(l['policy']) ?? named.policy;
  if (policy) d.policy = policy;
  const rule = typeof l['rule'] === 'number' ? String(l['rule']) : named.rule;
  if (rule !== undefined) d.rule = rule;
  const principal = principalOfReason(reason) ?? str(l['sourceService']);
  if (principal) d.principal = principal;
  const method = str(l['method']);
  if (method) d.method = method;
  // the logged path has its query values already replaced (never a token)
  const path = str(l['path']);
  if (path) d.path = path;
  const authority = str(l['authority']) ?? (str(l['destination']) && typeof l['port'] === 'number' ? `${str(l['destination'])}:${l['port']}` : undefined);
  if (authority) d.authority = authority;
  if (status !== undefined) d.status = status;
  return d;
}

/** The caller label of a refusal line (the metrics' `source` label), for counting refusals per edge. */
export function callerLabelOfLine(text: string): string | undefined {
  try {
    const l = JSON.parse(text.slice(Math.max(0, text.indexOf('{')))) as Line;
    return str(l['sourceService']);
  } catch {
    return undefined;
  }
}
