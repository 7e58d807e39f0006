export { connectMesh } from './connect.js';
export { KubeMeshApi, meshErrorOf, type KubeMeshApiOptions } from './kube-mesh-api.js';
export { RestMapper, collectionPath, objectPath, type Mapping } from './rest-mapper.js';
export { parseCondition, meetsCondition, podStatusText, type Condition } from './conditions.js';
export { podProcessInfo } from './pod-info.js';
