/**
 * The cluster-native sidecar bootstrap (issue #14): what the injector gives the sidecar container in
 * Kubernetes mode, what the controller keeps for it and accepts from it, and what the sidecar reads.
 * One place for the contract, because three processes (injector, controller, sidecar) and `tessera
 * node` (which honours the injected volumes) must agree on every name here:
 *
 *  * env `TESSERA_CONTROLLER_URL` = `https://<mesh>-controller.<mesh>-system.svc:6060`,
 *    `TESSERA_CONTROLLER_CA_FILE` = `/var/run/tessera/ca/ca.crt`, `TESSERA_PROXY_TOKEN_FILE` =
 *    `/var/run/secrets/tessera/token/token`;
 *  * volume `fsm-ca-root`: configMap `<mesh>-ca-root-cert` (key `ca.crt`, the mesh CA, public),
 *    mounted read-only at `/var/run/tessera/ca`; the controller keeps that ConfigMap in every
 *    namespace labelled `flomesh.io/monitored-by=<mesh>`;
 *  * volume `fsm-proxy-token`: a projected ServiceAccount token (audience `<mesh>-controller`, one
 *    hour, path `token`), mounted read-only at `/var/run/secrets/tessera/token`. The kubelet binds it
 *    to the pod and rotates it; the controller checks it with a TokenReview.
 *
 * The env names themselves are layout.ts `SIDECAR_ENV` (`controllerUrl`, `controllerCa`,
 * `proxyTokenFile`), shared with the local runtimes and `tessera node`. No imports: the injector, the
 * controller and the sidecar all read this file.
 */

export const CA_ROOT_VOLUME = 'fsm-ca-root';
export const CA_ROOT_MOUNT_PATH = '/var/run/tessera/ca';
export const CA_ROOT_KEY = 'ca.crt';
export const CA_ROOT_FILE = `${CA_ROOT_MOUNT_PATH}/${CA_ROOT_KEY}`;

export const PROXY_TOKEN_VOLUME = 'fsm-proxy-token';
export const PROXY_TOKEN_MOUNT_PATH = '/var/run/secrets/tessera/token';
export const PROXY_TOKEN_PATH = 'token';
export const PROXY_TOKEN_FILE = `${PROXY_TOKEN_MOUNT_PATH}/${PROXY_TOKEN_PATH}`;
/** The projected token's lifetime; the kubelet refreshes it at 80 % of that. */
export const PROXY_TOKEN_EXPIRATION_SECONDS = 3600;

/** The ConfigMap holding the mesh CA (`ca.crt`) in every monitored namespace (Istio's `istio-ca-root-cert`). */
export const caRootConfigMapName = (mesh: string): string => `${mesh}-ca-root-cert`;
/** The label marking such a ConfigMap as the controller's (the controller and uninstall delete only those). */
export const CA_ROOT_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const caRootManagedBy = (mesh: string): string => `${mesh}-controller`;
/** The audience of the sidecars' ServiceAccount tokens: the controller accepts no other. */
export const controllerTokenAudience = (mesh: string): string => `${mesh}-controller`;
/** The controller's Service DNS name (what its serving certificate names, what sidecars dial). */
export const controllerServiceHost = (mesh: string): string => `${mesh}-controller.${mesh}-system.svc`;
/** The controller's URL inside the cluster (port 6060, layout.ts CONTROLLER_PORT). */
export const controllerServiceUrl = (mesh: string, port: number): string => `https://${controllerServiceHost(mesh)}:${port}`;

/** Keys of a bound ServiceAccount token's `extra` in a TokenReview (kube-apiserver's serviceaccount package). */
export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';
