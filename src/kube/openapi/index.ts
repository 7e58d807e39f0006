/**
 * The OpenAPI documents of the Kubernetes API server (/openapi/v2, its protobuf form, /openapi/v3)
 * and the schemas of the built-in kinds. Pure functions; no I/O.
 */
export { builtinSchema, meshKindSchema, MESH_KINDS } from './builtin-schemas.js';
export { commonDefinitions, LIST_META, OBJECT_META, STATUS } from './common.js';
export { kindDefinition, listDefinition, publishSchema, schemaOf } from './convert.js';
export { documentHash, openApiV2, openApiV3GroupVersion, openApiV3Root, v3PathOf, type OpenApiV2Options } from './documents.js';
export { definitionName, groupVersionPrefix } from './names.js';
export { FIELD_VALIDATION, pathsOf } from './paths.js';
export { encodeOpenApiV2Protobuf, OPENAPI_V2_PROTOBUF_ACCEPT, OPENAPI_V2_PROTOBUF_TYPE } from './protobuf.js';
