/**
 * Defaulting and validation of ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding, as
 * kube-apiserver's admissionregistration strategy does them for v1: defaults first (failurePolicy
 * Fail, matchPolicy Equivalent, empty selectors, rule scope `*`), then one StatusCause per problem
 * with kube-apiserver's field paths and wording; every CEL expression is compiled and type-checked
 * (`spec.validations[0].expression: Invalid value: "…": compilation failed: …`). What this server does
 * not implement — params (`paramKind`, `paramRef`, the `params` variable) and `authorizer` — is
 * refused here, so a policy is never stored to be silently half-enforced.
 */
import type { LabelSelector } from '../../api/types.js';
import type { StatusCause } from '../apiserver/status.js';
import { TypedCauses } from '../schema/index.js';
import { compile } from './cel.js';
import { POLICY_KIND, type MatchResources, type NamedExpression, type NamedRuleWithOperations, type PolicyKind, type ValidatingAdmissionPolicy, type ValidatingAdmissionPolicyBinding } from './types.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function defaultMatchResources(m: MatchResources): MatchResources {
  const out: MatchResources = { ...m };
  out.matchPolicy ??= 'Equivalent';
  out.namespaceSelector ??= {};
  out.objectSelector ??= {};
  const scoped = (rules: NamedRuleWithOperations[] | undefined): NamedRuleWithOperations[] | undefined =>
    Array.isArray(rules) ? rules.map((r): NamedRuleWithOperations => (isObject(r) ? { ...r, scope: r.scope ?? '*' } as NamedRuleWithOperations : r)) : rules;
  if (out.resourceRules) out.resourceRules = scoped(out.resourceRules)!;
  if (out.excludeResourceRules) out.excludeResourceRules = scoped(out.excludeResourceRules)!;
  return out;
}

/** Fills in what kube-apiserver defaults for admissionregistration.k8s.io/v1 (a copy). */
export function withPolicyDefaults<T extends ValidatingAdmissionPolicy | ValidatingAdmissionPolicyBinding>(obj: T, kind: PolicyKind): T {
  const out = structuredClone(obj);
  if (!isObject(out.spec)) return out;
  if (kind === POLICY_KIND) {
    const spec = (out as ValidatingAdmissionPolicy).spec!;
    spec.failurePolicy ??= 'Fail';
    if (isObject(spec.matchConstraints)) spec.matchConstraints = defaultMatchResources(spec.matchConstraints);
  } else {
    const spec = (out as ValidatingAdmissionPolicyBinding).spec!;
    if (isObject(spec.matchResources)) spec.matchResources = defaultMatchResources(spec.matchResources);
  }
  return out;
}

const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const REASONS = ['Forbidden', 'Invalid', 'RequestEntityTooLarge', 'Unauthorized'];
const CEL_IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function strings(c: TypedCauses, field: string, list: unknown, required: boolean): string[] {
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    if (required) c.required(field);
    return [];
  }
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    c.invalid(field, list, 'must be a list of strings');
    return [];
  }
  return list as string[];
}

/** A rule's lists, with kube-apiserver's `*` rules (`if '*' is present, must not specify other …`). */
function validateRule(c: TypedCauses, at: string, r: unknown): void {
  if (!isObject(r)) {
    c.invalid(at, r, 'must be an object');
    return;
  }
  const rule = r as NamedRuleWithOperations;
  const ops = strings(c, `${at}.operations`, rule.operations, true);
  ops.forEach((o, i) => {
    if (!OPERATIONS.includes(o)) c.notSupported(`${at}.operations[${i}]`, o, OPERATIONS);
  });
  if (ops.length > 1 && ops.includes('*')) c.invalid(`${at}.operations`, ops, "if '*' is present, must not specify other operations");
  const groups = strings(c, `${at}.apiGroups`, rule.apiGroups, true);
  if (groups.length > 1 && groups.includes('*')) c.invalid(`${at}.apiGroups`, groups, "if '*' is present, must not specify other API groups");
  const versions = strings(c, `${at}.apiVersions`, rule.apiVersions, true);
  if (versions.length > 1 && versions.includes('*')) c.invalid(`${at}.apiVersions`, versions, "if '*' is present, must not specify other API versions");
  versions.forEach((v, i) => {
    if (v === '') c.required(`${at}.apiVersions[${i}]`);
  });
  const resources = strings(c, `${at}.resources`, rule.resources, true);
  const seen = new Set<string>();
  resources.forEach((res, i) => {
    if (res === '') c.required(`${at}.resources[${i}]`);
    if (seen.has(res)) c.duplicate(`${at}.resources[${i}]`, res);
    seen.add(res);
  });
  if (resources.includes('*') && resources.length > 1 && resources.some((x) => !x.includes('/') && x !== '*')) {
    c.invalid(`${at}.resources`, resources, "if '*' is present, must not specify other resources without subresources");
  }
  if (resources.includes('*/*') && resources.length > 1) c.invalid(`${at}.resources`, resources, "if '*/*' is present, must not specify other resources");
  strings(c, `${at}.resourceNames`, rule.resourceNames, false);
  if (rule.scope !== undefined && !['*', 'Cluster', 'Namespaced'].includes(String(rule.scope))) c.notSupported(`${at}.scope`, rule.scope, ['*', 'Cluster', 'Namespaced']);
}

function validateSelector(c: TypedCauses, at: string, s: LabelSelector | undefined): void {
  if (s === undefined) return;
  if (!isObject(s)) {
    c.invalid(at, s, 'must be a label selector');
    return;
  }
  (Array.isArray(s.matchExpressions) ? s.matchExpressions : []).forEach((e, i) => {
    const op = (e as { operator?: unknown }).operator;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(op))) c.notSupported(`${at}.matchExpressions[${i}].operator`, op, ['DoesNotExist', 'Exists', 'In', 'NotIn']);
    const values = (e as { values?: unknown[] }).values ?? [];
    if ((op === 'In' || op === 'NotIn') && values.length === 0) c.required(`${at}.matchExpressions[${i}].values`, 'must be specified when `operator` is \'In\' or \'NotIn\'');
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) c.forbidden(`${at}.matchExpressions[${i}].values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\'');
  });
}

function validateMatchResources(c: TypedCauses, at: string, m: unknown, requireRules: boolean): void {
  if (!isObject(m)) {
    c.invalid(at, m, 'must be an object');
    return;
  }
  const match = m as MatchResources;
  if (match.matchPolicy === undefined) c.required(`${at}.matchPolicy`);
  else if (!['Equivalent', 'Exact'].includes(String(match.matchPolicy))) c.notSupported(`${at}.matchPolicy`, match.matchPolicy, ['Equivalent', 'Exact']);
  validateSelector(c, `${at}.namespaceSelector`, match.namespaceSelector);
  validateSelector(c, `${at}.objectSelector`, match.objectSelector);
  const rules = Array.isArray(match.resourceRules) ? match.resourceRules : [];
  if (requireRules && rules.length === 0) c.required(`${at}.resourceRules`);
  rules.forEach((r, i) => validateRule(c, `${at}.resourceRules[${i}]`, r));
  (Array.isArray(match.excludeResourceRules) ? match.excludeResourceRules : []).forEach((r, i) => validateRule(c, `${at}.excludeResourceRules[${i}]`, r));
}

/** Compiles one expression; a problem becomes an Invalid cause at `field`. */
function validateExpression(c: TypedCauses, field: string, expression: unknown, declared?: Set<string>): void {
  if (typeof expression !== 'string' || expression.trim() === '') {
    c.required(field);
    return;
  }
  const out = compile(expression);
  if ('error' in out) {
    c.invalid(field, expression, out.error);
    return;
  }
  // `variables.x` names a declared variable (kube-apiserver type-checks the variables' object type)
  if (declared) {
    for (const m of expression.matchAll(/\bvariables\.([_a-zA-Z][_a-zA-Z0-9]*)/g)) {
      if (!declared.has(m[1]!)) {
        c.invalid(field, expression, `compilation failed: ERROR: <input>:1:${m.index! + 'variables.'.length}: undefined field '${m[1]}'`);
        return;
      }
    }
  }
}

function validateNamed(c: TypedCauses, at: string, list: unknown, what: 'variables' | 'matchConditions', declared: Set<string>): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) {
    c.invalid(at, list, 'must be a list');
    return;
  }
  if (what === 'matchConditions' && list.length > 64) c.invalid(at, list.length, 'must have at most 64 items');
  const names = new Set<string>();
  list.forEach((item, i) => {
    const f = `${at}[${i}]`;
    if (!isObject(item)) {
      c.invalid(f, item, 'must be an object');
      return;
    }
    const { name, expression } = item as unknown as NamedExpression;
    if (typeof name !== 'string' || name === '') c.required(`${f}.name`);
    else if (what === 'variables') {
      if (!CEL_IDENTIFIER.test(name) || CEL_RESERVED.has(name)) c.invalid(`${f}.name`, name, 'name is not a valid CEL identifier');
    } else if (!QUALIFIED_NAME.test(name) || name.length > 316) {
      c.invalid(`${f}.name`, name, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    }
    if (typeof name === 'string' && name !== '') {
      if (names.has(name)) c.duplicate(`${f}.name`, name);
      names.add(name);
    }
    validateExpression(c, `${f}.expression`, expression, declared);
    // a variable may use the variables before it
    if (what === 'variables' && typeof name === 'string') declared.add(name);
  });
}

/** The problems of a (defaulted) ValidatingAdmissionPolicy; empty when it is valid. */
export function validatePolicy(policy: ValidatingAdmissionPolicy): StatusCause[] {
  const c = new TypedCauses();
  const spec = policy.spec;
  if (!isObject(spec)) {
    c.required('spec');
    return c.list;
  }
  if (spec.paramKind !== undefined && spec.paramKind !== null) c.forbidden('spec.paramKind', 'params (paramKind) are not supported by this API server');
  if (spec.matchConstraints === undefined || spec.matchConstraints === null) c.required('spec.matchConstraints');
  else validateMatchResources(c, 'spec.matchConstraints', spec.matchConstraints, true);
  if (!['Fail', 'Ignore'].includes(String(spec.failurePolicy))) c.notSupported('spec.failurePolicy', spec.failurePolicy, ['Fail', 'Ignore']);
  const declared = new Set<string>();
  validateNamed(c, 'spec.variables', spec.variables, 'variables', declared);
  validateNamed(c, 'spec.matchConditions', spec.matchConditions, 'matchConditions', declared);
  const validations = Array.isArray(spec.validations) ? spec.validations : [];
  const audits = Array.isArray(spec.auditAnnotations) ? spec.auditAnnotations : [];
  if (validations.length === 0 && audits.length === 0) c.required('spec.validations', 'validations or auditAnnotations must contain at least one item');
  validations.forEach((v, i) => {
    const at = `spec.validations[${i}]`;
    if (!isObject(v)) {
      c.invalid(at, v, 'must be an object');
      return;
    }
    validateExpression(c, `${at}.expression`, v.expression, declared);
    if (v.message !== undefined) {
      if (typeof v.message !== 'string') c.invalid(`${at}.message`, v.message, 'must be a string');
      else if (v.message.includes('\n')) c.invalid(`${at}.message`, v.message, 'message must not contain line breaks');
      else if (v.message.length > 0 && v.message.trim() === '') c.invalid(`${at}.message`, v.message, 'message must be non-empty if specified');
    }
    if (v.messageExpression !== undefined) validateExpression(c, `${at}.messageExpression`, v.messageExpression, declared);
    if (v.reason !== undefined && !REASONS.includes(String(v.reason))) c.notSupported(`${at}.reason`, v.reason, REASONS);
  });
  const keys = new Set<string>();
  audits.forEach((a, i) => {
    const at = `spec.auditAnnotations[${i}]`;
    if (!isObject(a)) {
      c.invalid(at, a, 'must be an object');
      return;
    }
    if (typeof a.key !== 'string' || a.key === '') c.required(`${at}.key`);
    else {
      if (keys.has(a.key)) c.duplicate(`${at}.key`, a.key);
      keys.add(a.key);
    }
    validateExpression(c, `${at}.valueExpression`, a.valueExpression, declared);
  });
  return c.list;
}

/** The problems of a (defaulted) ValidatingAdmissionPolicyBinding; empty when it is valid. */
export function validateBinding(binding: ValidatingAdmissionPolicyBinding): StatusCause[] {
  const c = new TypedCauses();
  const spec = binding.spec;
  if (!isObject(spec)) {
    c.required('spec');
    return c.list;
  }
  if (typeof spec.policyName !== 'string' || spec.policyName === '') c.required('spec.policyName');
  if (spec.paramRef !== undefined && spec.paramRef !== null) c.forbidden('spec.paramRef', 'params (paramRef) are not supported by this API server');
  if (spec.matchResources !== undefined && spec.matchResources !== null) validateMatchResources(c, 'spec.matchResources', spec.matchResources, false);
  const actions = Array.isArray(spec.validationActions) ? spec.validationActions : [];
  if (actions.length === 0) c.required('spec.validationActions', 'at least one validation action is required');
  const seen = new Set<string>();
  actions.forEach((a, i) => {
    if (!['Audit', 'Deny', 'Warn'].includes(String(a))) c.notSupported(`spec.validationActions[${i}]`, a, ['Audit', 'Deny', 'Warn']);
    if (seen.has(a)) c.duplicate(`spec.validationActions[${i}]`, a);
    seen.add(a);
  });
  if (seen.has('Deny') && seen.has('Warn')) {
    c.invalid('spec.validationActions', actions, 'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)');
  }
  return c.list;
}
