export { apiVersionOf, type JSONSchemaProps, type PrinterColumn, type ResourceType, type ServedVersion } from './types.js';
export { builtinResourceTypes, isMeshKind } from './builtin.js';
export { ResourceRegistry, typeFromCrd, storageVersion, storageApiVersion, compareVersions, type CrdObject, type GroupVersionResource } from './registry.js';
export { crdObjectFor, establishedStatus, OPEN_OBJECT_SCHEMA } from './crd-object.js';
