/**
 * admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding as
 * stored (after defaulting): the fields the API server reads to decide which writes a policy judges
 * and how.
 */
import type { LabelSelector, Resource } from '../../api/types.js';

export const ADMISSIONREGISTRATION_GROUP = 'admissionregistration.k8s.io';
export const POLICY_KIND = 'ValidatingAdmissionPolicy';
export const BINDING_KIND = 'ValidatingAdmissionPolicyBinding';
export const POLICY_KINDS = [POLICY_KIND, BINDING_KIND] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT' | '*';

export interface NamedRuleWithOperations {
  resourceNames?: string[];
  operations?: Operation[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: 'Cluster' | 'Namespaced' | '*';
}

export interface MatchResources {
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  resourceRules?: NamedRuleWithOperations[];
  excludeResourceRules?: NamedRuleWithOperations[];
  matchPolicy?: 'Exact' | 'Equivalent';
}

export interface NamedExpression {
  name: string;
  expression: string;
}

export interface Validation {
  expression: string;
  message?: string;
  reason?: 'Unauthorized' | 'Forbidden' | 'Invalid' | 'RequestEntityTooLarge';
  messageExpression?: string;
}

export interface AuditAnnotation {
  key: string;
  valueExpression: string;
}

export interface PolicySpec {
  paramKind?: unknown;
  matchConstraints?: MatchResources;
  validations?: Validation[];
  failurePolicy?: 'Ignore' | 'Fail';
  auditAnnotations?: AuditAnnotation[];
  matchConditions?: NamedExpression[];
  variables?: NamedExpression[];
}

export interface ValidatingAdmissionPolicy extends Resource {
  spec?: PolicySpec;
}

export type ValidationAction = 'Deny' | 'Warn' | 'Audit';

export interface BindingSpec {
  policyName?: string;
  paramRef?: unknown;
  matchResources?: MatchResources;
  validationActions?: ValidationAction[];
}

export interface ValidatingAdmissionPolicyBinding extends Resource {
  spec?: BindingSpec;
}
