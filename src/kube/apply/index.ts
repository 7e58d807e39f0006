/**
 * Server-side apply and field management as pure functions: FieldSets in Kubernetes' FieldsV1
 * format, the merge of an applied configuration into a live object, ownership per manager
 * (`metadata.managedFields`), conflicts and the removal of fields a manager stopped applying.
 */
export { FieldSet, pathString, type Path, type PathElement } from './fieldset.js';
export { fieldsOf, compare } from './fields.js';
export { mergeApplied } from './merge.js';
export { undeclaredField } from './undeclared.js';
export { builtinExtras, fromJsonSchema, fromStrategic, overlay, OBJECT_META, NO_SCHEMA, type ApplySchema } from './schema.js';
export {
  apply, applyUpgradingClientSide, lastAppliedFields, LAST_APPLIED_ANNOTATION, managedFieldsAfterUpdate, readManagedFields, conflictMessage, conflictWith, ApplyConfigError, BEFORE_FIRST_APPLY,
  type ApplyResult, type Conflict, type ManagedFieldsEntry, type Operation, type Scope,
} from './managers.js';
