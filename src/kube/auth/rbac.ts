/**
 * Kubernetes RBAC, as plugin/pkg/auth/authorizer/rbac decides: a request is allowed when some rule of
 * a role bound to the user allows it (ClusterRoleBindings first, then the RoleBindings of the
 * request's namespace); nothing ever denies. Rule matching is `RuleAllows` word for word (verbs and
 * `*`, apiGroups, `resource/subresource` and `*` and `*\/subresource`, resourceNames, nonResourceURLs
 * with a trailing `*`). Subjects: User by name, Group by membership, ServiceAccount by
 * `system:serviceaccount:NS:NAME` (a RoleBinding's subject without a namespace means the binding's).
 * A ClusterRole with an aggregationRule has the rules of every ClusterRole its selectors match (what
 * the clusterrole-aggregation controller writes into it on a cluster).
 *
 * `RbacIndex` keeps the objects with an index of bindings by subject, updated one object at a time,
 * so a decision costs O(bindings naming the user or one of their groups), not O(all objects).
 */
import { selectorMatches as labelSelectorMatches } from '../../api/labels.js';
import type {
  AuthorizationAttributes,
  AuthorizationDecision,
  AuthUser,
  BindingObject,
  LabelSelector,
  PolicyRule,
  RoleObject,
  Subject,
} from './types.js';
import { RBAC_GROUP } from './types.js';

// ---------------------------------------------------------------------------------------------
// Rule matching (k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go)

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  for (const v of rule.verbs ?? []) if (v === '*' || v === verb) return true;
  return false;
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  for (const g of rule.apiGroups ?? []) if (g === '*' || g === group) return true;
  return false;
}

export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource === '') continue;
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return names.includes(name);
}

export function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(attrs: AuthorizationAttributes, rule: PolicyRule): boolean {
  if (attrs.resourceRequest) {
    const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    return verbMatches(rule, attrs.verb) && apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, combined, attrs.subresource) && resourceNameMatches(rule, attrs.name);
  }
  return verbMatches(rule, attrs.verb) && nonResourceUrlMatches(rule, attrs.path);
}

// ---------------------------------------------------------------------------------------------
// Subjects

const SA_PREFIX = 'system:serviceaccount:';

/** `system:serviceaccount:NS:NAME` split, or undefined for any other username. */
export function serviceAccountOf(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const rest = username.slice(SA_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0 || colon === rest.length - 1 || rest.indexOf(':', colon + 1) >= 0) return undefined;
  return { namespace: rest.slice(0, colon), name: rest.slice(colon + 1) };
}

/** `appliesToUser` of the RBAC authorizer; `bindingNamespace` is '' for ClusterRoleBindings. */
export function appliesToUser(user: AuthUser, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      if (!ns) return false;
      return user.username === `${SA_PREFIX}${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

/** The index keys a subject is filed under (undefined: it can never match). */
function subjectKey(subject: Subject, bindingNamespace: string): string | undefined {
  switch (subject.kind) {
    case 'User':
      return `u:${subject.name}`;
    case 'Group':
      return `g:${subject.name}`;
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns ? `u:${SA_PREFIX}${ns}:${subject.name}` : undefined;
    }
    default:
      return undefined;
  }
}

function userKeys(user: AuthUser): string[] {
  return [`u:${user.username}`, ...user.groups.map((g) => `g:${g}`)];
}

/** `describeSubject` of the RBAC authorizer. */
function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

// ---------------------------------------------------------------------------------------------
// Label selectors (aggregation rules)

/**
 * An aggregationRule's selector. Unlike a plain label selector, an empty one selects nothing: the
 * aggregation controller skips nil and `{}` alike.
 */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const hasAny = Object.keys(sel.matchLabels ?? {}).length > 0 || (sel.matchExpressions ?? []).length > 0;
  return hasAny && labelSelectorMatches(sel, labels);
}

// ---------------------------------------------------------------------------------------------
// The index

interface IndexedBinding {
  binding: BindingObject;
  /** '' for a ClusterRoleBinding */
  namespace: string;
}

type RbacObject = RoleObject | BindingObject;

function isRbac(obj: { apiVersion?: string; kind?: string }): obj is RbacObject {
  return typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith(`${RBAC_GROUP}/`) && ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(obj.kind ?? '');
}

/**
 * The RBAC objects, indexed for decisions. Feed it with `put`/`remove` (or `apply` for watch events);
 * every update touches only the entries of the object it is about.
 */
export class RbacIndex {
  private readonly roles = new Map<string, RoleObject>();
  private readonly clusterRoles = new Map<string, RoleObject>();
  /** key of the binding (`ns/name` or `/name`) → the binding */
  private readonly bindings = new Map<string, IndexedBinding>();
  /** subject key → binding keys (ClusterRoleBindings) */
  private readonly clusterBySubject = new Map<string, Set<string>>();
  /** namespace → subject key → binding keys (RoleBindings) */
  private readonly nsBySubject = new Map<string, Map<string, Set<string>>>();
  /** aggregated ClusterRoles' effective rules, dropped whenever any ClusterRole changes */
  private aggregated = new Map<string, PolicyRule[]>();

  /** Adds or replaces an RBAC object; anything else is ignored. */
  put(obj: { apiVersion?: string; kind?: string }): void {
    if (!isRbac(obj)) return;
    switch (obj.kind) {
      case 'Role':
        this.roles.set(`${obj.metadata.namespace ?? ''}/${obj.metadata.name}`, obj);
        return;
      case 'ClusterRole':
        this.clusterRoles.set(obj.metadata.name, obj);
        this.aggregated = new Map();
        return;
      default:
        this.removeBinding(bindingKey(obj));
        this.addBinding(obj);
    }
  }

  remove(obj: { apiVersion?: string; kind?: string; metadata?: { name: string; namespace?: string } }): void {
    if (!isRbac(obj)) return;
    switch (obj.kind) {
      case 'Role':
        this.roles.delete(`${obj.metadata.namespace ?? ''}/${obj.metadata.name}`);
        return;
      case 'ClusterRole':
        this.clusterRoles.delete(obj.metadata.name);
        this.aggregated = new Map();
        return;
      default:
        this.removeBinding(bindingKey(obj));
    }
  }

  /** A store watch event. */
  apply(event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: { apiVersion?: string; kind?: string } }): void {
    if (event.type === 'DELETED') this.remove(event.object);
    else this.put(event.object);
  }

  private addBinding(b: BindingObject): void {
    const namespace = b.kind === 'RoleBinding' ? (b.metadata.namespace ?? '') : '';
    const key = bindingKey(b);
    this.bindings.set(key, { binding: b, namespace });
    const bySubject = b.kind === 'RoleBinding' ? mapFor(this.nsBySubject, namespace) : this.clusterBySubject;
    for (const s of b.subjects ?? []) {
      const k = subjectKey(s, namespace);
      if (k === undefined) continue;
      let set = bySubject.get(k);
      if (!set) bySubject.set(k, (set = new Set()));
      set.add(key);
    }
  }

  private removeBinding(key: string): void {
    const old = this.bindings.get(key);
    if (!old) return;
    this.bindings.delete(key);
    const b = old.binding;
    const bySubject = b.kind === 'RoleBinding' ? this.nsBySubject.get(old.namespace) : this.clusterBySubject;
    if (!bySubject) return;
    for (const s of b.subjects ?? []) {
      const k = subjectKey(s, old.namespace);
      if (k === undefined) continue;
      const set = bySubject.get(k);
      set?.delete(key);
      if (set && set.size === 0) bySubject.delete(k);
    }
    if (b.kind === 'RoleBinding' && bySubject.size === 0) this.nsBySubject.delete(old.namespace);
  }

  /** The ClusterRoleBindings, then the RoleBindings of `namespace`, that name this user or a group of theirs. */
  bindingsFor(user: AuthUser, namespace: string): IndexedBinding[] {
    const keys = userKeys(user);
    const out: IndexedBinding[] = [];
    const collect = (bySubject: Map<string, Set<string>> | undefined): void => {
      if (!bySubject) return;
      const seen = new Set<string>();
      const found: string[] = [];
      for (const k of keys) for (const b of bySubject.get(k) ?? []) if (!seen.has(b)) (seen.add(b), found.push(b));
      // Deterministic order (the apiserver lists bindings by name).
      found.sort();
      for (const b of found) out.push(this.bindings.get(b)!);
    };
    collect(this.clusterBySubject);
    if (namespace !== '') collect(this.nsBySubject.get(namespace));
    return out;
  }

  /** The rules a binding's roleRef names, or the error kube-apiserver records when the role is missing. */
  rulesOf(b: IndexedBinding): { rules: PolicyRule[] } | { error: string } {
    const ref = b.binding.roleRef;
    if (ref.kind === 'ClusterRole') {
      const role = this.clusterRoles.get(ref.name);
      if (!role) return { error: `clusterrole.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found` };
      return { rules: this.effectiveRules(role) };
    }
    if (ref.kind === 'Role' && b.namespace !== '') {
      const role = this.roles.get(`${b.namespace}/${ref.name}`);
      if (!role) return { error: `role.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found` };
      return { rules: role.rules ?? [] };
    }
    return { error: `unsupported role reference kind: ${JSON.stringify(ref.kind)}` };
  }

  /**
   * A ClusterRole's rules; an aggregated one has those of every ClusterRole its selectors match, as
   * the aggregation controller leaves them once it has settled (transitively: `admin` takes `edit`'s
   * aggregated rules, which include `view`'s). `visiting` breaks selector cycles.
   */
  private effectiveRules(role: RoleObject, visiting = new Set<string>()): PolicyRule[] {
    const selectors = role.aggregationRule?.clusterRoleSelectors;
    if (!selectors || selectors.length === 0) return role.rules ?? [];
    const cached = this.aggregated.get(role.metadata.name);
    if (cached) return cached;
    visiting.add(role.metadata.name);
    const rules: PolicyRule[] = [];
    const seen = new Set<string>();
    for (const name of [...this.clusterRoles.keys()].sort()) {
      if (visiting.has(name)) continue;
      const other = this.clusterRoles.get(name)!;
      if (!selectors.some((s) => selectorMatches(s, other.metadata.labels))) continue;
      for (const r of this.effectiveRules(other, visiting)) {
        const k = JSON.stringify(r);
        if (!seen.has(k)) (seen.add(k), rules.push(r));
      }
    }
    visiting.delete(role.metadata.name);
    this.aggregated.set(role.metadata.name, rules);
    return rules;
  }

  /** Counts, for tests and diagnostics. */
  size(): { roles: number; clusterRoles: number; bindings: number } {
    return { roles: this.roles.size, clusterRoles: this.clusterRoles.size, bindings: this.bindings.size };
  }
}

function bindingKey(b: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return b.kind === 'RoleBinding' ? `${b.metadata.namespace ?? ''}/${b.metadata.name}` : `/${b.metadata.name}`;
}

function mapFor<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map()));
  return inner;
}

/** The group kube-apiserver always allows (its privileged-group authorizer runs before RBAC). */
export const SYSTEM_MASTERS = 'system:masters';

function describeBinding(b: IndexedBinding, subject: Subject): string {
  const { binding } = b;
  if (binding.kind === 'RoleBinding') {
    return `RoleBinding ${JSON.stringify(`${binding.metadata.name}/${b.namespace}`)} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)} to ${describeSubject(subject, b.namespace)}`;
  }
  return `ClusterRoleBinding ${JSON.stringify(binding.metadata.name)} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)} to ${describeSubject(subject, '')}`;
}

/**
 * The RBAC decision for `attrs` by `user` over the objects in `index`. Allowed: the reason names the
 * binding (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "view" to User "jane"`). Not
 * allowed: the reason is '' or lists the missing roles met on the way (`RBAC: role… not found`).
 */
export function authorize(attrs: AuthorizationAttributes, user: AuthUser, index: RbacIndex): Required<AuthorizationDecision> {
  if (user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
  const errors: string[] = [];
  for (const b of index.bindingsFor(user, attrs.namespace)) {
    const subject = (b.binding.subjects ?? []).find((s) => appliesToUser(user, s, b.namespace));
    if (!subject) continue;
    const got = index.rulesOf(b);
    if ('error' in got) {
      errors.push(got.error);
      continue;
    }
    for (const rule of got.rules) {
      if (ruleAllows(attrs, rule)) return { allowed: true, reason: `RBAC: allowed by ${describeBinding(b, subject)}` };
    }
  }
  if (errors.length === 0) return { allowed: false, reason: '' };
  return { allowed: false, reason: `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` };
}

/** Every rule that applies to `user` in `namespace` (SelfSubjectRulesReview), with role lookup errors. */
export function rulesFor(user: AuthUser, namespace: string, index: RbacIndex): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  for (const b of index.bindingsFor(user, namespace)) {
    if (!(b.binding.subjects ?? []).some((s) => appliesToUser(user, s, b.namespace))) continue;
    const got = index.rulesOf(b);
    if ('error' in got) errors.push(got.error);
    else rules.push(...got.rules);
  }
  return { rules, errors };
}
