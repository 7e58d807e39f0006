/**
 * kube-apiserver's ValidatingAdmissionPolicy plugin over the stored policies and bindings. The server
 * calls `validate` once the object is final (after the mutating webhooks, beside the validating
 * ones): for every binding whose policy exists and whose policy's matchConstraints and own
 * matchResources match the request, the policy's matchConditions are evaluated (all true, or the
 * policy does not apply), then its validations; a failure is acted on by the binding's
 * validationActions — Deny refuses the request with the validation's reason, Warn answers with a
 * `Warning:` header, Audit is logged. An expression that fails to evaluate follows the policy's
 * failurePolicy (Fail: a failed validation; Ignore: skipped). Requests on admissionregistration.k8s.io
 * resources (webhook configurations, policies, bindings) are exempt, as in Kubernetes.
 */
import type { Resource } from '../../api/types.js';
import type { AdmissionAttributes } from '../admission-webhooks/dispatcher.js';
import { matchedVersion, namespaceSelectorMatches, objectSelectorMatches, type MatchRequest } from '../admission-webhooks/matching.js';
import type { Webhook } from '../admission-webhooks/types.js';
import type { KubeStorage } from '../apiserver/backend.js';
import { qualifiedResource, StatusError, type StatusReason } from '../apiserver/status.js';
import { apiVersionOf } from '../registry/index.js';
import { compile, evaluationMessage, toCel, type Compiled } from './cel.js';
import {
  ADMISSIONREGISTRATION_GROUP, BINDING_KIND, POLICY_KIND, type MatchResources, type NamedRuleWithOperations,
  type ValidatingAdmissionPolicy, type ValidatingAdmissionPolicyBinding, type ValidationAction,
} from './types.js';

export interface AdmissionPoliciesOptions {
  log?: (line: string) => void;
}

interface CompiledPolicy {
  key: string;
  policy: ValidatingAdmissionPolicy;
  variables: { name: string; program: Compiled }[];
  matchConditions: { name: string; program: Compiled }[];
  validations: { program: Compiled; message?: string; messageExpression?: Compiled; reason: StatusReason }[];
  audits: { key: string; program: Compiled }[];
  /** why the stored policy cannot be evaluated (a policy stored before a change of this server) */
  broken?: string;
}

interface Failure {
  policy: string;
  binding: string;
  message: string;
  reason: StatusReason;
}

const REASON_CODES: Record<string, number> = { Forbidden: 403, Unauthorized: 401, RequestEntityTooLarge: 413, Invalid: 422 };

function program(expression: string): Compiled {
  const out = compile(expression);
  if ('error' in out) throw new Error(`expression ${JSON.stringify(expression)}: ${out.error}`);
  return out.compiled;
}

function compilePolicy(policy: ValidatingAdmissionPolicy): CompiledPolicy {
  const key = `${policy.metadata.uid ?? ''}/${policy.metadata.resourceVersion ?? ''}`;
  const spec = policy.spec ?? {};
  const out: CompiledPolicy = { key, policy, variables: [], matchConditions: [], validations: [], audits: [] };
  try {
    out.variables = (spec.variables ?? []).map((v) => ({ name: v.name, program: program(v.expression) }));
    out.matchConditions = (spec.matchConditions ?? []).map((m) => ({ name: m.name, program: program(m.expression) }));
    out.validations = (spec.validations ?? []).map((v) => ({
      program: program(v.expression),
      ...(v.message ? { message: v.message } : {}),
      ...(v.messageExpression ? { messageExpression: program(v.messageExpression) } : {}),
      reason: (v.reason ?? 'Invalid') as StatusReason,
    }));
    out.audits = (spec.auditAnnotations ?? []).map((a) => ({ key: a.key, program: program(a.valueExpression) }));
  } catch (e) {
    out.broken = (e as Error).message;
  }
  return out;
}

/** The rules that may match this request's name (`resourceNames`, when a rule has them). */
const named = (rules: NamedRuleWithOperations[] | undefined, name: string): NamedRuleWithOperations[] =>
  (rules ?? []).filter((r) => !r.resourceNames || r.resourceNames.length === 0 || r.resourceNames.includes(name));

/**
 * The version the request matches `m` at, or undefined. `requireRules` false (a binding's
 * matchResources): no resourceRules means every request its policy matches.
 */
function matches(m: MatchResources | undefined, req: MatchRequest, name: string, requireRules: boolean): string | undefined | null {
  if (!m) return requireRules ? undefined : null;
  const as = (rules: NamedRuleWithOperations[]): Webhook => ({
    name: '', clientConfig: {}, admissionReviewVersions: [], rules,
    matchPolicy: m.matchPolicy ?? 'Equivalent', namespaceSelector: m.namespaceSelector ?? {}, objectSelector: m.objectSelector ?? {},
  });
  const hook = as(named(m.resourceRules, name));
  if (!namespaceSelectorMatches(hook, req) || !objectSelectorMatches(hook, req)) return undefined;
  const excludes = named(m.excludeResourceRules, name);
  if (excludes.length > 0 && matchedVersion(as(excludes), req) !== undefined) return undefined;
  if ((m.resourceRules ?? []).length === 0 && !requireRules) return null;
  return matchedVersion(hook, req);
}

export class AdmissionPolicies {
  private readonly log: (line: string) => void;
  private readonly compiled = new Map<string, CompiledPolicy>();

  constructor(private readonly storage: KubeStorage, opts: AdmissionPoliciesOptions = {}) {
    this.log = opts.log ?? (() => undefined);
  }

  private compiledFor(policy: ValidatingAdmissionPolicy): CompiledPolicy {
    const key = `${policy.metadata.uid ?? ''}/${policy.metadata.resourceVersion ?? ''}`;
    const cached = this.compiled.get(policy.metadata.name);
    if (cached && cached.key === key) return cached;
    const fresh = compilePolicy(policy);
    this.compiled.set(policy.metadata.name, fresh);
    return fresh;
  }

  /** Evaluates every bound policy that matches; throws the refusal of the first Deny, else returns the warnings. */
  validate(a: AdmissionAttributes): { warnings: string[] } {
    const warnings: string[] = [];
    if (a.type.group === ADMISSIONREGISTRATION_GROUP) return { warnings };
    const bindings = this.storage.list(ADMISSIONREGISTRATION_GROUP, BINDING_KIND).items as ValidatingAdmissionPolicyBinding[];
    if (bindings.length === 0) return { warnings };
    const policies = new Map((this.storage.list(ADMISSIONREGISTRATION_GROUP, POLICY_KIND).items as ValidatingAdmissionPolicy[]).map((p) => [p.metadata.name, p]));
    const req: MatchRequest = { operation: a.operation, type: a.type, version: a.version };
    if (a.subresource) req.subresource = a.subresource;
    if (a.object) req.object = a.object;
    if (a.oldObject) req.oldObject = a.oldObject;
    let namespaceObject: Resource | undefined;
    if (a.type.namespaced && a.namespace) {
      namespaceObject = this.storage.get({ group: '', kind: 'Namespace', name: a.namespace });
      req.namespaceLabels = namespaceObject?.metadata.labels ?? {};
    }
    const denials: Failure[] = [];
    const sorted = [...bindings].sort((x, y) => (x.metadata.name < y.metadata.name ? -1 : x.metadata.name > y.metadata.name ? 1 : 0));
    for (const binding of sorted) {
      const policy = policies.get(binding.spec?.policyName ?? '');
      if (!policy) continue;
      const version = matches(policy.spec?.matchConstraints, req, a.name, true);
      if (version === undefined || version === null) continue;
      if (matches(binding.spec?.matchResources, req, a.name, false) === undefined) continue;
      const failures = this.evaluate(this.compiledFor(policy), binding, a, version, namespaceObject);
      const actions = new Set<ValidationAction>(binding.spec?.validationActions ?? []);
      for (const f of failures) {
        if (actions.has('Deny')) denials.push(f);
        if (actions.has('Warn')) warnings.push(`Validation failed for ValidatingAdmissionPolicy '${f.policy}' with binding '${f.binding}': ${f.message}`);
        if (actions.has('Audit')) this.log(`ValidatingAdmissionPolicy '${f.policy}' with binding '${f.binding}' audit: ${a.operation} ${qualifiedResource(a.type.group, a.type.plural)} ${a.namespace ? `${a.namespace}/` : ''}${a.name} by ${a.user.username}: ${f.message}`);
      }
    }
    if (denials.length > 0) throw refusal(a, denials[0]!, warnings);
    return { warnings };
  }

  /** The failed validations of one policy for one binding (an empty list: it allows the request). */
  private evaluate(p: CompiledPolicy, binding: ValidatingAdmissionPolicyBinding, a: AdmissionAttributes, version: string, namespaceObject: Resource | undefined): Failure[] {
    const policy = p.policy.metadata.name;
    const fail = p.policy.spec?.failurePolicy ?? 'Fail';
    const failure = (message: string, reason: StatusReason = 'Invalid'): Failure[] => [{ policy, binding: binding.metadata.name, message, reason }];
    const errored = (message: string): Failure[] => {
      if (fail === 'Ignore') {
        this.log(`ValidatingAdmissionPolicy '${policy}' with binding '${binding.metadata.name}': ${message} (ignored: failurePolicy Ignore)`);
        return [];
      }
      return failure(message);
    };
    if (p.broken) return errored(`policy cannot be evaluated: ${p.broken}`);
    const at = (o: Resource | undefined): unknown => (o ? toCel({ ...o, apiVersion: apiVersionOf(a.type.group, version) }) : null);
    const gv = (v: string) => ({ group: a.type.group, version: v });
    const request = toCel({
      kind: { ...gv(version), kind: a.type.kind },
      resource: { ...gv(version), resource: a.type.plural },
      subResource: a.subresource ?? '',
      requestKind: { ...gv(a.version), kind: a.type.kind },
      requestResource: { ...gv(a.version), resource: a.type.plural },
      requestSubResource: a.subresource ?? '',
      name: a.name,
      namespace: a.type.namespaced ? (a.namespace ?? '') : '',
      operation: a.operation,
      userInfo: { username: a.user.username, uid: a.user.uid ?? '', groups: a.user.groups, extra: a.user.extra ?? {} },
      dryRun: a.dryRun,
    });
    const activation: Record<string, unknown> = {
      object: a.operation === 'DELETE' ? null : at(a.object),
      oldObject: a.operation === 'CREATE' ? null : at(a.oldObject),
      request,
      namespaceObject: namespaceObject ? toCel(namespaceObject) : null,
    };
    // variables: evaluated when first used, each once, in the activation they may share
    const variables: Record<string, unknown> = {};
    for (const v of p.variables) {
      let done = false;
      let value: unknown;
      Object.defineProperty(variables, v.name, {
        enumerable: true,
        get: () => {
          if (!done) {
            value = v.program.evaluate(activation);
            done = true;
          }
          return value;
        },
      });
    }
    activation.variables = variables;
    const run = (c: Compiled): { value: unknown } | { error: string } => {
      try {
        return { value: c.evaluate(activation) };
      } catch (e) {
        return { error: `expression '${c.expression}' resulted in error: ${evaluationMessage(e)}` };
      }
    };
    for (const m of p.matchConditions) {
      const r = run(m.program);
      if ('error' in r) return errored(`failed to evaluate matchCondition '${m.name}': ${r.error}`);
      if (r.value !== true) {
        if (typeof r.value !== 'boolean') return errored(`matchCondition '${m.name}' must evaluate to bool`);
        return [];
      }
    }
    const out: Failure[] = [];
    for (const v of p.validations) {
      const r = run(v.program);
      if ('error' in r) {
        out.push(...errored(r.error));
        continue;
      }
      if (r.value === true) continue;
      if (typeof r.value !== 'boolean') {
        out.push(...errored(`expression '${v.program.expression}' must evaluate to bool`));
        continue;
      }
      let message = v.message ?? `failed expression: ${v.program.expression}`;
      if (v.messageExpression) {
        const m = run(v.messageExpression);
        if ('value' in m && typeof m.value === 'string' && m.value.trim() !== '' && !m.value.includes('\n')) message = m.value;
        else if ('error' in m) this.log(`ValidatingAdmissionPolicy '${policy}': messageExpression: ${m.error}`);
      }
      out.push({ policy, binding: binding.metadata.name, message, reason: v.reason });
    }
    for (const audit of p.audits) {
      const r = run(audit.program);
      if ('value' in r && r.value !== null) this.log(`ValidatingAdmissionPolicy '${policy}' audit annotation ${policy}/${audit.key}: ${String(r.value)}`);
    }
    return out;
  }
}

/** kube-apiserver's refusal: admission.NewForbidden's message, the validation's reason and its code. */
function refusal(a: AdmissionAttributes, f: Failure, warnings: string[]): StatusError {
  const message = `ValidatingAdmissionPolicy '${f.policy}' with binding '${f.binding}' denied request: ${f.message}`;
  const err = new StatusError('Forbidden', `${qualifiedResource(a.type.group, a.type.plural)} "${a.name}" is forbidden: ${message}`, {
    name: a.name, ...(a.type.group ? { group: a.type.group } : {}), kind: a.type.plural, causes: [{ message }],
  });
  err.status.reason = f.reason;
  err.status.code = REASON_CODES[f.reason] ?? 422;
  (err as StatusError & { warnings?: string[] }).warnings = warnings;
  return err;
}
