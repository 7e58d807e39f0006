/**
 * The published schemas of ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
 * (`kubectl explain`, kubectl's client-side validation), written in the CRD dialect from the
 * admissionregistration.k8s.io/v1 API reference. The server's own checks are validation.ts.
 */
import type { JSONSchemaProps } from '../registry/types.js';
import { POLICY_KIND, type PolicyKind } from './types.js';

type S = JSONSchemaProps;
const str = (description: string): S => ({ type: 'string', description });
const strings = (description: string): S => ({ type: 'array', description, items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' });
const obj = (description: string, properties: Record<string, S>, required?: string[]): S => ({ type: 'object', description, properties, ...(required ? { required } : {}) });
const atomicList = (description: string, items: S): S => ({ type: 'array', description, items, 'x-kubernetes-list-type': 'atomic' });
const mapList = (description: string, items: S, key: string): S => ({
  type: 'array', description, items, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [key],
});
// spec.matchConditions carries patchStrategy:"merge" patchMergeKey:"name" (src/kube/patch/schemas.ts);
// status.conditions is a map list without patch tags, so strategic merge replaces it.
const mergedByKey = (description: string, items: S, key: string): S => ({
  ...mapList(description, items, key), 'x-kubernetes-patch-merge-key': key, 'x-kubernetes-patch-strategy': 'merge',
});

const labelSelector = (description: string): S => obj(description, {
  matchLabels: { type: 'object', description: 'Labels that must all be present with these values.', additionalProperties: { type: 'string' } },
  matchExpressions: atomicList('Label selector requirements, ANDed.',
    obj('A label selector requirement.', { key: str('The label key.'), operator: str('In, NotIn, Exists or DoesNotExist.'), values: strings('Values for In and NotIn.') }, ['key', 'operator'])),
});

const rule = obj('Operations and resources (optionally by name) a policy applies to.', {
  resourceNames: strings('Names the rule applies to; empty means all.'),
  operations: strings('CREATE, UPDATE, DELETE, CONNECT, or * for all.'),
  apiGroups: strings('API groups; * for all, "" for the core group.'),
  apiVersions: strings('API versions; * for all.'),
  resources: strings('Resources (pods, pods/status, pods/*, *, */status, */*).'),
  scope: str('Cluster, Namespaced or * (default).'),
});

const matchResources = (description: string): S => obj(description, {
  namespaceSelector: labelSelector('Which namespaces\' objects are matched, by the namespace\'s labels.'),
  objectSelector: labelSelector('Which objects are matched, by their labels.'),
  resourceRules: atomicList('The operations and resources matched; any rule matching is enough.', rule),
  excludeResourceRules: atomicList('The operations and resources never matched (takes precedence).', rule),
  matchPolicy: str('Exact or Equivalent (default): whether another version of a matching resource matches too.'),
});

const named = (description: string, what: string): S => obj(description, { name: str(`Name of the ${what}.`), expression: str('CEL expression.') }, ['name', 'expression']);

function policySpec(): S {
  return obj('What the policy matches and the CEL validations it runs.', {
    paramKind: obj('The kind of the parameter resource (not supported by this server: refused).', { apiVersion: str('API version of the parameter kind.'), kind: str('Kind of the parameter.') }),
    matchConstraints: matchResources('The requests the policy applies to (resourceRules required).'),
    validations: atomicList('CEL validations; all must evaluate to true.', obj('A CEL validation.', {
      expression: str('CEL expression over object, oldObject, request, variables and namespaceObject; must evaluate to bool.'),
      message: str('Message returned when the validation fails (no line breaks).'),
      reason: str('Forbidden, Invalid (default), RequestEntityTooLarge or Unauthorized: the Status reason of a refusal.'),
      messageExpression: str('CEL expression evaluating to the message (falls back to message).'),
    }, ['expression'])),
    failurePolicy: str('Fail (default) or Ignore: what an expression that cannot be evaluated means.'),
    auditAnnotations: atomicList('CEL expressions recorded (logged by this server) when the policy is evaluated.',
      obj('An audit annotation.', { key: str('Annotation key (the policy\'s name is its prefix).'), valueExpression: str('CEL expression evaluating to a string or null.') }, ['key', 'valueExpression'])),
    matchConditions: mergedByKey('CEL conditions that must all be true for the policy to apply.', named('A match condition.', 'condition'), 'name'),
    variables: atomicList('Named CEL expressions, available as variables.NAME to the later variables and the validations.', named('A variable.', 'variable')),
  });
}

const policyStatus = obj('What the server observed of the policy.', {
  observedGeneration: { type: 'integer', format: 'int64', description: 'The generation the status describes.' },
  typeChecking: obj('Type checking results.', { expressionWarnings: atomicList('Warnings.', obj('A warning.', { fieldRef: str('Field.'), warning: str('Warning.') })) }),
  conditions: mapList('Conditions.', obj('A condition.', { type: str('Type.'), status: str('Status.'), reason: str('Reason.'), message: str('Message.'), lastTransitionTime: str('Time.'), observedGeneration: { type: 'integer', format: 'int64', description: 'Generation.' } }), 'type'),
});

function bindingSpec(): S {
  return obj('Which policy, for which requests, with which actions.', {
    policyName: str('Name of the ValidatingAdmissionPolicy bound.'),
    paramRef: obj('The parameter resource (not supported by this server: refused).', {
      name: str('Name.'), namespace: str('Namespace.'), selector: labelSelector('Selector.'), parameterNotFoundAction: str('Allow or Deny.'),
    }),
    matchResources: matchResources('Further limits the requests the policy applies to (no resourceRules: all it matches).'),
    validationActions: { type: 'array', description: 'Deny, Warn and/or Audit: what a failed validation does (Deny and Warn not together).', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
  });
}

export function admissionPolicySchema(kind: PolicyKind): JSONSchemaProps {
  if (kind === POLICY_KIND) return obj('CEL validations the API server runs on matching requests (bound by a ValidatingAdmissionPolicyBinding).', { spec: policySpec(), status: policyStatus });
  return obj('Binds a ValidatingAdmissionPolicy to requests, with its validation actions.', { spec: bindingSpec() });
}
