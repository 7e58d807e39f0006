/**
 * ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1): the stored policies' and bindings'
 * defaults and validation (CEL compiled and type-checked at creation), and their enforcement on every
 * write through the API (src/kube/apiserver/webhook-admission.ts calls it after the mutating webhooks).
 */
export { AdmissionPolicies, type AdmissionPoliciesOptions } from './dispatcher.js';
export { compile, toCel, POLICY_VARIABLES, UNSUPPORTED_VARIABLES } from './cel.js';
export { admissionPolicySchema } from './schema.js';
export { validateBinding, validatePolicy, withPolicyDefaults } from './validation.js';
export {
  ADMISSIONREGISTRATION_GROUP, BINDING_KIND, POLICY_KIND, POLICY_KINDS,
  type PolicyKind, type ValidatingAdmissionPolicy, type ValidatingAdmissionPolicyBinding,
} from './types.js';
