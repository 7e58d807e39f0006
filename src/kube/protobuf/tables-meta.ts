/**
 * k8s.io/apimachinery messages: runtime.Unknown (the envelope) and meta/v1. Numbers from
 * pkg/runtime/generated.proto and pkg/apis/meta/v1/generated.proto; JSON names and pointer-ness
 * from the Go types. Note the two TypeMetas number apiVersion and kind the other way round.
 */
import type { MessageTable } from './schema.js';

export const META_TABLE: MessageTable = {
  // runtime.TypeMeta, inside runtime.Unknown
  RuntimeTypeMeta: { 1: 'apiVersion string', 2: 'kind string' },
  Unknown: { 1: 'typeMeta RuntimeTypeMeta', 2: 'raw bytes', 3: 'contentEncoding string', 4: 'contentType string' },

  TypeMeta: { 1: 'kind string', 2: 'apiVersion string' },
  ObjectMeta: {
    1: 'name string',
    2: 'generateName string',
    3: 'namespace string',
    4: 'selfLink string',
    5: 'uid string',
    6: 'resourceVersion string',
    7: 'generation int64',
    8: 'creationTimestamp Time',
    9: 'deletionTimestamp *Time',
    10: 'deletionGracePeriodSeconds *int64',
    11: 'labels map[string]string',
    12: 'annotations map[string]string',
    13: 'ownerReferences []OwnerReference',
    14: 'finalizers []string',
    17: 'managedFields []ManagedFieldsEntry',
  },
  OwnerReference: {
    1: 'kind string',
    3: 'name string',
    4: 'uid string',
    5: 'apiVersion string',
    6: 'controller *bool',
    7: 'blockOwnerDeletion *bool',
  },
  ManagedFieldsEntry: {
    1: 'manager string',
    2: 'operation string',
    3: 'apiVersion string',
    4: 'time *Time',
    6: 'fieldsType string',
    7: 'fieldsV1 *FieldsV1',
    8: 'subresource string',
  },
  ListMeta: { 1: 'selfLink string', 2: 'resourceVersion string', 3: 'continue string', 4: 'remainingItemCount *int64' },
  LabelSelector: { 1: 'matchLabels map[string]string', 2: 'matchExpressions []LabelSelectorRequirement' },
  LabelSelectorRequirement: { 1: 'key string', 2: 'operator string', 3: 'values []string' },
  Condition: {
    1: 'type string',
    2: 'status string',
    3: 'observedGeneration int64',
    4: 'lastTransitionTime Time',
    5: 'reason string',
    6: 'message string',
  },
  DeleteOptions: {
    1: 'gracePeriodSeconds *int64',
    2: 'preconditions *Preconditions',
    3: 'orphanDependents *bool',
    4: 'propagationPolicy *string',
    5: 'dryRun []string',
    6: 'ignoreStoreReadErrorWithClusterBreakingPotential *bool',
  },
  Preconditions: { 1: 'uid *string', 2: 'resourceVersion *string' },
  Status: {
    1: 'metadata ListMeta',
    2: 'status string',
    3: 'message string',
    4: 'reason string',
    5: 'details *StatusDetails',
    6: 'code int32',
  },
  StatusDetails: {
    1: 'name string',
    2: 'group string',
    3: 'kind string',
    4: 'causes []StatusCause',
    5: 'retryAfterSeconds int32',
    6: 'uid string',
  },
  StatusCause: { 1: 'reason string', 2: 'message string', 3: 'field string' },
};
