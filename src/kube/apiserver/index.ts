export { createKubeApi, type KubeApi, type KubeApiOptions, type VersionInfo } from './server.js';
export type { Admission, AdmissionRequest, KubeStorage, LogOptions, ObjectKey, PodConnector, StoredEvent, UserInfo } from './backend.js';
export type { ServerContext } from './context.js';
export { StatusError, MESH_ERROR_CODE_HEADER, alreadyExists, badRequest, conflict, invalid, notFound, toStatus, toStatusError, type Status, type StatusCause } from './status.js';
export { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from './resources.js';
