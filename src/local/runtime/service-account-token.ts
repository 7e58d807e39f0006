/**
 * ServiceAccount token volumes, as the kubelet projects them (`kube-api-access-*`): every container
 * of a pod sees `token`, `ca.crt` and `namespace` at `/var/run/secrets/kubernetes.io/serviceaccount`.
 * The token is a TokenRequest the runtime makes itself (src/kube/auth ServiceAccountTokens, the
 * mesh's `<state>/pki/sa.key`): bound to the pod (it stops authenticating once the pod is deleted or
 * replaced), audience the API, `expirationSeconds` 3607 as the kubelet asks, rewritten when 80% of
 * its life has passed. `automountServiceAccountToken: false` on the pod (else on its
 * ServiceAccount) leaves it out, as does a volumeMount of the container at that path; a pod whose
 * ServiceAccount does not exist gets none (the local mesh has no ServiceAccount controller making
 * `default`; Kubernetes would refuse the pod).
 *
 * The files are written 0600 under `<podDir>/serviceaccount/`. Loopback mode (pods are processes
 * of the host): the mount path in the command, args and env is rewritten to that directory (as for
 * Secret volumes, pod-volumes.ts), `TESSERA_SERVICEACCOUNT_DIR` names it (also
 * `TESSERA_MOUNT_KUBE_API_ACCESS`), and `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` say where
 * the API answers. Namespace mode: the sandbox bind-mounts the directory read-only at the mount
 * path (`TESSERA_SERVICEACCOUNT_DIR` is the mount path); the API is not routed into sandboxes, so
 * no `KUBERNETES_SERVICE_*`.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PodSpec, Resource } from '../../api/types.js';
import { ServiceAccountTokens } from '../../kube/auth/service-account-tokens.js';
import { MeshError } from '../../lib/errors.js';
import { API_PORT, apiAddress, stateFiles } from '../layout.js';
import { ensureServiceAccountKey } from '../pki/sa-key.js';
import type { ResourceStore } from '../store/index.js';
import type { MountedVolume } from './pod-volumes.js';
import type { ContainerContext, ImageRuntime } from './types.js';

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** the volume's name: `TESSERA_MOUNT_KUBE_API_ACCESS` in loopback mode (pod-volumes.ts' rule) */
export const SERVICE_ACCOUNT_VOLUME = 'kube-api-access';
/** names the directory holding `token`, `ca.crt` and `namespace`, in every mode */
export const SERVICE_ACCOUNT_DIR_ENV = 'TESSERA_SERVICEACCOUNT_DIR';
/** what the kubelet asks for (an hour and 7 seconds) */
export const SERVICE_ACCOUNT_TOKEN_SECONDS = 3607;
/** the kubelet rewrites a token once this share of its life has passed */
const REFRESH_AT = 0.8;

export interface ServiceAccountTokenDeps {
  store: ResourceStore;
  stateDir: string;
  block: number;
  log: (line: string) => void;
}

export function serviceAccountDir(stateDir: string, namespace: string, pod: string): string {
  return join(stateFiles.podDir(stateDir, namespace, pod), 'serviceaccount');
}

/** The token file of a pod, on the host. */
export function serviceAccountTokenFile(stateDir: string, namespace: string, pod: string): string {
  return join(serviceAccountDir(stateDir, namespace, pod), 'token');
}

const issuers = new WeakMap<ResourceStore, ServiceAccountTokens>();

export function issuerFor(deps: ServiceAccountTokenDeps): ServiceAccountTokens {
  let tokens = issuers.get(deps.store);
  if (!tokens) {
    const store = deps.store;
    tokens = new ServiceAccountTokens(ensureServiceAccountKey(deps.stateDir), {
      get: (k) => store.get({ kind: k.kind, group: k.group, name: k.name, ...(k.namespace ? { namespace: k.namespace } : {}) }),
    });
    issuers.set(deps.store, tokens);
  }
  return tokens;
}

/**
 * Written whole or not at all: readers (client-go, the components) never see half a token. 0600, or
 * the mode the file already has (namespace mode opens the volume to the pod's user, podReadable).
 */
function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  let mode = 0o600;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    // a new file
  }
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

interface PodToken {
  uid: string;
  dir: string;
  refreshAtMs: number;
  timer?: NodeJS.Timeout;
}

/** Pods with a mounted token, by pod directory: their rotation timers. */
const mounted = new Map<string, PodToken>();

type PodLike = ContainerContext['pod'];

/** Whether a token is mounted: the pod's `automountServiceAccountToken`, else its ServiceAccount's, else yes. */
export function automountsToken(spec: PodSpec | undefined, serviceAccount: Resource | undefined): boolean {
  const podSays = (spec as { automountServiceAccountToken?: unknown } | undefined)?.automountServiceAccountToken;
  if (typeof podSays === 'boolean') return podSays;
  return (serviceAccount as { automountServiceAccountToken?: unknown } | undefined)?.automountServiceAccountToken !== false;
}

function issueInto(deps: ServiceAccountTokenDeps, pod: Resource, serviceAccount: Resource, dir: string): number {
  const tokens = issuerFor(deps);
  const namespace = pod.metadata.namespace ?? 'default';
  const { token } = tokens.issue({
    namespace, serviceAccount, audiences: [...tokens.apiAudiences], expirationSeconds: SERVICE_ACCOUNT_TOKEN_SECONDS, boundPod: pod,
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeAtomically(join(dir, 'token'), token);
  writeAtomically(join(dir, 'ca.crt'), readFileSync(stateFiles.apiCa(deps.stateDir), 'utf8'));
  writeAtomically(join(dir, 'namespace'), namespace);
  return Date.now() + SERVICE_ACCOUNT_TOKEN_SECONDS * 1000 * REFRESH_AT;
}

/** The stored pod and its ServiceAccount when a token should be (re)issued for `uid`, else undefined. */
function current(deps: ServiceAccountTokenDeps, namespace: string, name: string, uid: string): { pod: Resource; sa: Resource } | undefined {
  const pod = deps.store.get({ kind: 'Pod', namespace, name });
  if (!pod || (pod.metadata.uid ?? '') !== uid || pod.metadata.deletionTimestamp) return undefined;
  const saName = (pod.spec as PodSpec | undefined)?.serviceAccountName || 'default';
  const sa = deps.store.get({ kind: 'ServiceAccount', namespace, name: saName });
  return sa ? { pod, sa } : undefined;
}

function schedule(deps: ServiceAccountTokenDeps, state: PodToken, namespace: string, name: string): void {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    // Rotation: only while the same pod lives and its files are still there (a deleted pod's are gone).
    const live = existsSync(state.dir) ? current(deps, namespace, name, state.uid) : undefined;
    if (!live) {
      if (mounted.get(state.dir) === state) mounted.delete(state.dir);
      return;
    }
    try {
      state.refreshAtMs = issueInto(deps, live.pod, live.sa, state.dir);
    } catch (e) {
      deps.log(`pod ${namespace}/${name}: rotating its ServiceAccount token failed (retrying): ${(e as Error).message}`);
      state.refreshAtMs = Date.now() + 10_000;
    }
    schedule(deps, state, namespace, name);
  }, Math.max(0, state.refreshAtMs - Date.now()));
  state.timer.unref();
}

/**
 * Writes the pod's token volume (a fresh token unless the one written is young enough) and keeps
 * it rotated; undefined when the pod gets no token.
 */
export function mountServiceAccountToken(deps: ServiceAccountTokenDeps, pod: PodLike, container: ContainerContext['container']): MountedVolume | undefined {
  const namespace = pod.metadata.namespace;
  const name = pod.metadata.name;
  const uid = pod.metadata.uid ?? '';
  if (!uid) return undefined;
  if ((container.volumeMounts ?? []).some((m) => m.mountPath.replace(/\/+$/, '') === SERVICE_ACCOUNT_MOUNT)) return undefined;
  const stored = deps.store.get({ kind: 'Pod', namespace, name });
  if (!stored || (stored.metadata.uid ?? '') !== uid) return undefined;
  const saName = (stored.spec as PodSpec | undefined)?.serviceAccountName || 'default';
  const sa = deps.store.get({ kind: 'ServiceAccount', namespace, name: saName });
  if (!automountsToken(stored.spec as PodSpec | undefined, sa) || !sa) return undefined;
  const dir = serviceAccountDir(deps.stateDir, namespace, name);
  let state = mounted.get(dir);
  if (!state || state.uid !== uid || !existsSync(join(dir, 'token')) || Date.now() >= state.refreshAtMs) {
    if (state) clearTimeout(state.timer);
    state = { uid, dir, refreshAtMs: issueInto(deps, stored, sa, dir) };
    mounted.set(dir, state);
    schedule(deps, state, namespace, name);
  }
  return { volume: SERVICE_ACCOUNT_VOLUME, mountPath: SERVICE_ACCOUNT_MOUNT, dir };
}

/** Projected ServiceAccount token files (`projected.sources[].serviceAccountToken`), by file: their renewal timers. */
const projected = new Map<string, NodeJS.Timeout>();

/**
 * A projected volume's ServiceAccount token, as the kubelet writes it: a TokenRequest for the pod's
 * ServiceAccount bound to the pod, with the volume's audience (the API's when it names none) and
 * lifetime, written to `file` and rewritten at 80% of its life while the same pod lives and the file's
 * directory exists. Throws MESH_ERR_NOT_FOUND while the pod or its ServiceAccount is missing.
 */
export function writeProjectedToken(deps: ServiceAccountTokenDeps, pod: PodLike, file: string, audience: string | undefined, expirationSeconds: number): void {
  const namespace = pod.metadata.namespace;
  const name = pod.metadata.name;
  const uid = pod.metadata.uid ?? '';
  const write = (): boolean => {
    const live = current(deps, namespace, name, uid);
    if (!live) return false;
    const tokens = issuerFor(deps);
    const { token } = tokens.issue({ namespace, serviceAccount: live.sa, audiences: audience ? [audience] : [...tokens.apiAudiences], expirationSeconds, boundPod: live.pod });
    writeAtomically(file, token);
    return true;
  };
  if (!write()) throw new MeshError('MESH_ERR_NOT_FOUND', `MountVolume.SetUp failed for a projected token of pod ${namespace}/${name}: the pod or its ServiceAccount is not there`);
  const renew = (ms: number): void => {
    clearTimeout(projected.get(file));
    const t = setTimeout(() => {
      projected.delete(file);
      if (!existsSync(join(file, '..'))) return;
      try {
        if (write()) renew(expirationSeconds * 1000 * REFRESH_AT);
      } catch (e) {
        deps.log(`pod ${namespace}/${name}: renewing a projected ServiceAccount token failed (retrying): ${(e as Error).message}`);
        renew(10_000);
      }
    }, ms);
    t.unref();
    projected.set(file, t);
  };
  renew(expirationSeconds * 1000 * REFRESH_AT);
}

/** Stops every rotation (the daemon is stopping; the pods' files stay as they are). */
export function stopServiceAccountTokens(): void {
  for (const state of mounted.values()) clearTimeout(state.timer);
  mounted.clear();
  for (const t of projected.values()) clearTimeout(t);
  projected.clear();
}

interface RunnerOptionsLike {
  ctx: ContainerContext;
  runtime: ImageRuntime | undefined;
  log: (line: string) => void;
  mountVolumes?: () => MountedVolume[];
}

/**
 * A container runner's options with the ServiceAccount token volume added: the runtime's command
 * gets the API's address and `TESSERA_SERVICEACCOUNT_DIR` (the container's own env wins), and the
 * volume joins the Secret volumes (so it is path-rewritten or bind-mounted like them).
 */
export function withServiceAccountToken<O extends RunnerOptionsLike>(opts: O, deps: ServiceAccountTokenDeps): O {
  const inner = opts.runtime;
  if (!inner) return opts;
  let volume: MountedVolume | undefined;
  const runtime: ImageRuntime = {
    ...inner,
    matches: (image, container, pod) => inner.matches(image, container, pod),
    command(ctx) {
      const cmd = inner.command(ctx);
      try {
        volume = mountServiceAccountToken(deps, ctx.pod, ctx.container);
      } catch (e) {
        volume = undefined;
        opts.log(`pod ${ctx.pod.metadata.namespace}/${ctx.pod.metadata.name}: no ServiceAccount token: ${(e as Error).message}`);
      }
      if (!volume) return cmd;
      const env: Record<string, string> = { [SERVICE_ACCOUNT_DIR_ENV]: SERVICE_ACCOUNT_MOUNT };
      if (!ctx.sandbox) {
        Object.assign(env, {
          KUBERNETES_SERVICE_HOST: apiAddress(deps.block), KUBERNETES_SERVICE_PORT: String(API_PORT), KUBERNETES_SERVICE_PORT_HTTPS: String(API_PORT),
        });
      }
      return { ...cmd, env: { ...env, ...cmd.env } };
    },
  };
  const mountVolumes = opts.mountVolumes;
  return {
    ...opts,
    runtime,
    mountVolumes: () => {
      const volumes = mountVolumes?.() ?? [];
      return volume ? [...volumes, volume] : volumes;
    },
  };
}
