export { createLocalKubeApi, ensureMeshCrds, type LocalKubeApiOptions } from './kube-api.js';
export { KUBE_VERSION } from './version.js';
