/**
 * The apimachinery definitions every document refers to (ObjectMeta, ListMeta, Status, Time,
 * IntOrString, Quantity…), in OpenAPI form, written for a reference prefix so v2 (`#/definitions/`)
 * and v3 (`#/components/schemas/`) share them.
 */
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const OBJECT_META = `${META}.ObjectMeta`;
export const LIST_META = `${META}.ListMeta`;
export const STATUS = `${META}.Status`;
export const PATCH = `${META}.Patch`;
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

export type RefStyle = 'v2' | 'v3';
export const refTo = (style: RefStyle, name: string) => `${style === 'v2' ? '#/definitions/' : '#/components/schemas/'}${name}`;

type Def = Record<string, unknown>;

export function commonDefinitions(style: RefStyle): Record<string, Def> {
  /** v3 wraps a reference that carries its own description in allOf, as kube-openapi's builder3 does */
  const ref = (name: string, description?: string): Def =>
    description === undefined ? { $ref: refTo(style, name) } : style === 'v2' ? { $ref: refTo(style, name), description } : { allOf: [{ $ref: refTo(style, name) }], description };
  const str = (description: string): Def => ({ type: 'string', description });
  const int64 = (description: string): Def => ({ type: 'integer', format: 'int64', description });
  const stringMap = (description: string): Def => ({ type: 'object', description, additionalProperties: { type: 'string' } });
  const gvk = (group: string, version: string, kind: string) => ({ 'x-kubernetes-group-version-kind': [{ group, kind, version }] });

  return {
    [OBJECT_META]: {
      type: 'object',
      description: 'Metadata that all persisted resources must have.',
      properties: {
        name: str('Name, unique within a namespace. Required on create unless generateName is set; cannot be updated.'),
        generateName: str('Prefix the server uses to generate a unique name when name is empty.'),
        namespace: str('Namespace the object belongs to; empty for cluster-scoped kinds.'),
        selfLink: str('Deprecated; not set.'),
        uid: str('Unique identifier set by the server on create.'),
        resourceVersion: str('Opaque version of the object, for optimistic concurrency and watches.'),
        generation: int64('Sequence number of the desired state, set by the server.'),
        creationTimestamp: ref(`${META}.Time`, 'When the object was created, set by the server.'),
        deletionTimestamp: ref(`${META}.Time`, 'When the object will be deleted, set by the server on a graceful delete.'),
        deletionGracePeriodSeconds: int64('Seconds allowed for a graceful termination.'),
        labels: stringMap('Key/value pairs used to organize and select objects.'),
        annotations: stringMap('Unstructured key/value data for tools and extensions.'),
        ownerReferences: {
          type: 'array', description: 'Objects this object depends on; it is garbage-collected when they are gone.', items: ref(`${META}.OwnerReference`),
          'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'], 'x-kubernetes-patch-merge-key': 'uid', 'x-kubernetes-patch-strategy': 'merge',
        },
        finalizers: { type: 'array', description: 'Conditions that must be cleared before the object is removed.', items: { type: 'string' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
        managedFields: { type: 'array', description: 'Which manager owns which fields (server-side apply).', items: ref(`${META}.ManagedFieldsEntry`), 'x-kubernetes-list-type': 'atomic' },
      },
    },
    [LIST_META]: {
      type: 'object',
      description: 'Metadata of a list.',
      properties: {
        resourceVersion: str('Version of the list, for watches.'),
        continue: str('Token to fetch the next page; empty on the last page.'),
        remainingItemCount: int64('Items left after this page, when known.'),
        selfLink: str('Deprecated; not set.'),
      },
    },
    [`${META}.OwnerReference`]: {
      type: 'object',
      description: 'A reference to an owner object in the same namespace.',
      required: ['apiVersion', 'kind', 'name', 'uid'],
      properties: {
        apiVersion: str('API version of the owner.'), kind: str('Kind of the owner.'), name: str('Name of the owner.'), uid: str('UID of the owner.'),
        controller: { type: 'boolean', description: 'The owner is the managing controller.' },
        blockOwnerDeletion: { type: 'boolean', description: 'The owner cannot be deleted before this object.' },
      },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${META}.ManagedFieldsEntry`]: {
      type: 'object',
      description: 'A set of fields owned by one manager.',
      properties: {
        manager: str('Name of the manager.'), operation: str('Apply or Update.'), apiVersion: str('Version the fields are written in.'),
        time: ref(`${META}.Time`, 'When the fields were last changed.'), fieldsType: str('Format of fieldsV1: FieldsV1.'),
        fieldsV1: ref(`${META}.FieldsV1`, 'The owned fields.'), subresource: str('Subresource the fields were written through.'),
      },
    },
    [`${META}.FieldsV1`]: { type: 'object', description: 'A set of fields, as a trie in JSON.' },
    [`${META}.Time`]: { type: 'string', format: 'date-time', description: 'An RFC 3339 time, second precision.' },
    [`${META}.MicroTime`]: { type: 'string', format: 'date-time', description: 'An RFC 3339 time, microsecond precision.' },
    [STATUS]: {
      type: 'object',
      description: 'The result of an operation that returns no object.',
      properties: {
        apiVersion: str('Version of this representation.'), kind: str('Status.'),
        metadata: ref(LIST_META, 'Standard list metadata.'),
        status: str('Success or Failure.'), message: str('Human-readable description.'),
        reason: str('Machine-readable reason (NotFound, AlreadyExists, Invalid…).'),
        details: ref(`${META}.StatusDetails`, 'Extended data of the reason.'),
        code: { type: 'integer', format: 'int32', description: 'HTTP status code.' },
      },
      ...gvk('', 'v1', 'Status'),
    },
    [`${META}.StatusDetails`]: {
      type: 'object',
      description: 'Details of a Status.',
      properties: {
        name: str('Name of the object concerned.'), group: str('Group of the object.'), kind: str('Kind of the object.'), uid: str('UID of the object.'),
        causes: { type: 'array', description: 'The individual problems.', items: ref(`${META}.StatusCause`), 'x-kubernetes-list-type': 'atomic' },
        retryAfterSeconds: { type: 'integer', format: 'int32', description: 'Seconds to wait before retrying.' },
      },
    },
    [`${META}.StatusCause`]: {
      type: 'object',
      description: 'One problem, often in one field.',
      properties: { reason: str('Machine-readable cause (FieldValueInvalid…).'), message: str('Human-readable description.'), field: str('Path of the field, e.g. spec.containers[0].name.') },
    },
    [DELETE_OPTIONS]: {
      type: 'object',
      description: 'Options of a delete.',
      properties: {
        apiVersion: str('Version of this representation.'), kind: str('DeleteOptions.'),
        gracePeriodSeconds: int64('Seconds before the object is deleted.'),
        propagationPolicy: str('Orphan, Background or Foreground.'),
        preconditions: ref(`${META}.Preconditions`, 'Must be fulfilled before the deletion.'),
        dryRun: { type: 'array', description: 'All: do not persist.', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' },
        orphanDependents: { type: 'boolean', description: 'Deprecated; use propagationPolicy.' },
      },
    },
    [`${META}.Preconditions`]: { type: 'object', description: 'Preconditions of a delete.', properties: { uid: str('Expected UID.'), resourceVersion: str('Expected resource version.') } },
    [PATCH]: { type: 'object', description: 'A patch body (JSON patch, merge patch, strategic merge patch or apply configuration).' },
    'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string', description: 'An integer or a string.' },
    'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string', description: 'A fixed-point quantity: 100m, 1Gi, 2.' },
    'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object', description: 'An embedded object.' },
    [SCALE]: {
      type: 'object',
      description: 'A scaling request for a resource.',
      properties: {
        apiVersion: str('Version of this representation.'), kind: str('Scale.'),
        metadata: ref(OBJECT_META, 'Standard object metadata.'),
        spec: { type: 'object', description: 'Desired scale.', properties: { replicas: { type: 'integer', format: 'int32', description: 'Desired number of instances.' } } },
        status: {
          type: 'object', description: 'Current scale.', required: ['replicas'],
          properties: { replicas: { type: 'integer', format: 'int32', description: 'Actual number of instances.' }, selector: str('Label query over the pods counted.') },
        },
      },
      ...gvk('autoscaling', 'v1', 'Scale'),
    },
  };
}
