/**
 * Kubernetes' protobuf wire format (`application/vnd.kubernetes.protobuf`) for the built-in kinds
 * kubectl's typed clients send that way (namespaces, configmaps, secrets, serviceaccounts,
 * services, pods, deployments, token requests, scales, evictions, delete options), converted to
 * and from the JSON objects the rest of the API server works with. Schemas are declarative
 * tables transcribed from k8s.io/api and k8s.io/apimachinery.
 */

export { decodeKubeProtobuf, encodeKubeProtobuf, KUBE_PROTOBUF_MAGIC, type DecodedKubeObject } from './envelope.js';
export { isKubeProtobuf, KUBE_PROTOBUF_CONTENT_TYPE } from './content-type.js';
export { ProtobufError, ProtobufDecodeError, ProtobufEncodeError, ProtobufUnsupportedError } from './errors.js';
export { decodeMessage, encodeMessage } from './codec.js';
export { messageSchema, schemaForKind, supportedKinds, SCHEMAS } from './kinds.js';
export { compileTables, type FieldSpec, type MessageSchema, type MessageTable, type ScalarType, type SpecialType, type ValueType } from './schema.js';
export { Reader, Writer, WireType } from './wire.js';
