/**
 * Custom resources against their CRD's openAPIV3Schema, as kube-apiserver treats them: validation
 * into `StatusCause`s, pruning of unknown fields (for fieldValidation Strict/Warn), defaulting, and
 * the structural-schema checks made when a CRD is created. Pure functions; no I/O.
 */
export {
  causes,
  FieldPath,
  formatCause,
  goValue,
  invalidMessage,
  SchemaValidationError,
  strictDecodingMessage,
  TypedCauses,
  unknownFieldWarnings,
  type CauseReason,
  type StatusCause,
} from './causes.js';
export { applyDefaults } from './defaults.js';
export { dnsSubdomainProblems, validateObjectMeta, type ObjectMetaOptions } from './object-meta.js';
export { OBJECT_META_FIELDS, prune, type PruneResult } from './prune.js';
export { validateStructuralSchema } from './structural.js';
export { assertValid, validateObject, validateValue, type ValidateOptions } from './validate.js';
