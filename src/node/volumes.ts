/**
 * A pod's volumes as a kubelet materializes them, for the kinds Tessera's pods use: `configMap`,
 * `secret`, `emptyDir`, and `projected` (`serviceAccountToken` by the TokenRequest API bound to the
 * pod, `configMap`, `secret`, `downwardAPI` of the pod's metadata) — including the
 * `kube-api-access-*` volume the ServiceAccount admission adds to every pod, and the injected
 * sidecar's CA ConfigMap and controller token. Each volume is a directory under the pod's own
 * directory; in namespace mode it is bind-mounted at each container's mountPath (read-only where
 * the mount says so), in loopback mode the container's paths are rewritten to it. A projected token
 * is renewed at 80% of its lifetime, as the kubelet does, by replacing the file.
 *
 * The node reads only what the Node authorizer lets a node read: objects its own pods reference.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Container, Pod, Resource } from '../api/types.js';
import { MeshError } from '../lib/errors.js';
import { podField } from '../local/runtime/app-env.js';
import type { MountedVolume } from '../local/runtime/pod-volumes.js';
import { NodeApiError, type NodeApi } from './api.js';

interface KeyToPath { key: string; path: string; mode?: number }
interface ObjectSource { name?: string; secretName?: string; items?: KeyToPath[]; optional?: boolean }
interface TokenSource { audience?: string; expirationSeconds?: number; path: string }
interface DownwardFile { path: string; fieldRef?: { fieldPath: string } }
interface ProjectedSource {
  serviceAccountToken?: TokenSource;
  configMap?: ObjectSource;
  secret?: ObjectSource;
  downwardAPI?: { items?: DownwardFile[] };
}
interface VolumeSpec {
  name: string;
  configMap?: ObjectSource;
  secret?: ObjectSource;
  emptyDir?: unknown;
  projected?: { sources?: ProjectedSource[] };
}

/** A kubelet's default and minimum token lifetimes (seconds). */
const DEFAULT_TOKEN_SECONDS = 3600;
const MIN_TOKEN_SECONDS = 600;

function safeRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !path.split('/').some((p) => p === '..' || p === '' || p === '.');
}

function setUpFailed(volume: string, why: string): MeshError {
  return new MeshError('MESH_ERR_NOT_FOUND', `MountVolume.SetUp failed for volume "${volume}": ${why}`);
}

/** The files of a ConfigMap (data as text, binaryData base64) or a Secret (data base64). */
function objectFiles(kind: 'ConfigMap' | 'Secret', object: Resource): Record<string, Buffer> {
  const o = object as unknown as { data?: Record<string, string>; binaryData?: Record<string, string> };
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(o.data ?? {})) out[k] = kind === 'Secret' ? Buffer.from(v, 'base64') : Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(o.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

export class PodVolumes {
  readonly #api: NodeApi;
  readonly #pod: Pod;
  readonly #dir: string;
  readonly #log: (line: string) => void;
  readonly #ready = new Map<string, string>();
  /** the Secrets and ConfigMaps the containers' env names (`Kind/name`), read at every prepare */
  readonly #envObjects = new Map<string, Resource>();
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;

  /** `dir`: where the pod's volume directories go (`<pod dir>/volumes`). */
  constructor(api: NodeApi, pod: Pod, dir: string, log: (line: string) => void) {
    this.#api = api;
    this.#pod = pod;
    this.#dir = dir;
    this.#log = log;
  }

  get #ns(): string {
    return this.#pod.metadata.namespace ?? 'default';
  }

  /**
   * Materializes every volume a container mounts. Throws MESH_ERR_NOT_FOUND while a referenced
   * object is missing (the pod then waits in ContainerCreating and is retried, as on a kubelet).
   */
  async prepare(extra: { podIP?: string; hostIP?: string } = {}): Promise<void> {
    const mounted = new Set([...(this.#pod.spec?.containers ?? []), ...(this.#pod.spec?.initContainers ?? [])]
      .flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
    for (const v of (this.#pod.spec?.volumes ?? []) as VolumeSpec[]) {
      if (!mounted.has(v.name) || this.#ready.has(v.name)) continue;
      const dir = join(this.#dir, v.name);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      // an emptyDir is writable by every uid of the pod, as a kubelet makes it
      chmodSync(dir, v.emptyDir !== undefined ? 0o1777 : 0o755);
      if (v.configMap) await this.#object(v.name, dir, 'ConfigMap', v.configMap);
      else if (v.secret) await this.#object(v.name, dir, 'Secret', v.secret);
      else if (v.projected) {
        for (const source of v.projected.sources ?? []) {
          if (source.serviceAccountToken) await this.#token(v.name, dir, source.serviceAccountToken);
          else if (source.configMap) await this.#object(v.name, dir, 'ConfigMap', source.configMap);
          else if (source.secret) await this.#object(v.name, dir, 'Secret', source.secret);
          else if (source.downwardAPI) this.#downward(v.name, dir, source.downwardAPI.items ?? [], extra);
        }
      } else if (v.emptyDir === undefined) {
        throw new MeshError('MESH_ERR_IMAGE_UNSUPPORTED', `volume "${v.name}": the node supports configMap, secret, emptyDir and projected volumes`);
      }
      this.#ready.set(v.name, dir);
    }
    await this.#readEnvObjects();
  }

  /**
   * The Secret or ConfigMap an env `secretKeyRef`/`configMapKeyRef` names, as read by the last
   * `prepare` (the runtime resolves the keys: local/runtime/app-env.ts).
   */
  envObject(kind: 'Secret' | 'ConfigMap', name: string): Resource | undefined {
    return this.#envObjects.get(`${kind}/${name}`);
  }

  /** Reads what the env references; a missing non-optional object keeps the pod waiting (retried). */
  async #readEnvObjects(): Promise<void> {
    type Ref = { kind: 'Secret' | 'ConfigMap'; name: string; optional?: boolean };
    const refs = [...(this.#pod.spec?.containers ?? []), ...(this.#pod.spec?.initContainers ?? [])].flatMap((c) => (c.env ?? []).flatMap((e): Ref[] => {
      const from = e.valueFrom;
      if (from?.secretKeyRef) return [{ kind: 'Secret' as const, ...from.secretKeyRef }];
      if (from?.configMapKeyRef) return [{ kind: 'ConfigMap' as const, ...from.configMapKeyRef }];
      return [];
    }));
    this.#envObjects.clear();
    for (const ref of refs) {
      const key = `${ref.kind}/${ref.name}`;
      if (this.#envObjects.has(key)) continue;
      try {
        this.#envObjects.set(key, await this.#api.must<Resource>('GET', `/api/v1/namespaces/${encodeURIComponent(this.#ns)}/${ref.kind === 'Secret' ? 'secrets' : 'configmaps'}/${encodeURIComponent(ref.name)}`));
      } catch (e) {
        if (!(e instanceof NodeApiError && e.status === 404)) throw e;
        if (ref.optional !== true) throw new MeshError('MESH_ERR_NOT_FOUND', `${ref.kind === 'Secret' ? 'secret' : 'configmap'} "${ref.name}" not found (named by the env)`);
      }
    }
  }

  /** Where `container`'s mounts come from (volumes prepared by `prepare`). */
  mountsFor(container: Container): (MountedVolume & { readOnly: boolean })[] {
    return (container.volumeMounts ?? []).flatMap((m) => {
      const dir = this.#ready.get(m.name);
      return dir ? [{ volume: m.name, mountPath: m.mountPath.replace(/\/+$/, '') || '/', dir, readOnly: m.readOnly === true }] : [];
    });
  }

  #write(volume: string, dir: string, path: string, content: Buffer | string, mode = 0o644): void {
    if (!safeRelative(path)) throw setUpFailed(volume, `path "${path}" leaves the volume`);
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    // replaced whole (rename), so a reader never sees half a token
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  }

  async #object(volume: string, dir: string, kind: 'ConfigMap' | 'Secret', source: ObjectSource): Promise<void> {
    const name = kind === 'Secret' ? source.secretName ?? source.name : source.name;
    if (!name) throw setUpFailed(volume, `the ${kind} has no name`);
    const path = `/api/v1/namespaces/${encodeURIComponent(this.#ns)}/${kind === 'Secret' ? 'secrets' : 'configmaps'}/${encodeURIComponent(name)}`;
    let object: Resource;
    try {
      object = await this.#api.must<Resource>('GET', path);
    } catch (e) {
      if (e instanceof NodeApiError && e.status === 404) {
        if (source.optional) return;
        throw setUpFailed(volume, `${kind === 'Secret' ? 'secret' : 'configmap'} "${name}" not found`);
      }
      throw e;
    }
    const data = objectFiles(kind, object);
    const entries = source.items ? source.items.map((i) => [i.path, data[i.key], i.mode] as const) : Object.entries(data).map(([k, v]) => [k, v, undefined] as const);
    for (const [path, content, mode] of entries) {
      if (content === undefined) {
        if (source.optional) continue;
        throw setUpFailed(volume, `${kind} "${name}" has no such key for "${path}"`);
      }
      // Secrets 0640-ish in a cluster (fsGroup); here the pod's uids differ, so world-readable inside the pod only
      this.#write(volume, dir, path, content, mode ?? 0o644);
    }
  }

  #downward(volume: string, dir: string, items: DownwardFile[], extra: { podIP?: string; hostIP?: string }): void {
    for (const item of items) {
      const value = item.fieldRef ? podField(this.#pod, item.fieldRef.fieldPath, extra) : undefined;
      if (value === undefined) throw setUpFailed(volume, `downwardAPI item "${item.path}": unsupported field`);
      this.#write(volume, dir, item.path, value);
    }
  }

  /** A token bound to this pod, for its ServiceAccount; renewed at 80% of its lifetime. */
  async #token(volume: string, dir: string, source: TokenSource): Promise<void> {
    const seconds = Math.max(MIN_TOKEN_SECONDS, source.expirationSeconds ?? DEFAULT_TOKEN_SECONDS);
    const sa = this.#pod.spec?.serviceAccountName ?? 'default';
    const request = async (): Promise<number> => {
      const answer = await this.#api.must<{ status?: { token?: string; expirationTimestamp?: string } }>(
        'POST', `/api/v1/namespaces/${encodeURIComponent(this.#ns)}/serviceaccounts/${encodeURIComponent(sa)}/token`, {
          apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
          spec: {
            ...(source.audience ? { audiences: [source.audience] } : {}),
            expirationSeconds: seconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: this.#pod.metadata.name, uid: this.#pod.metadata.uid },
          },
        });
      const token = answer.status?.token;
      if (!token) throw setUpFailed(volume, `the TokenRequest for serviceaccount "${sa}" returned no token`);
      this.#write(volume, dir, source.path, token);
      const expires = Date.parse(answer.status?.expirationTimestamp ?? '');
      const lifetime = Number.isFinite(expires) ? expires - Date.now() : seconds * 1000;
      return Math.max(1000, lifetime * 0.8);
    };
    const renewIn = await request();
    const renew = (ms: number): void => {
      if (this.#stopped) return;
      const t = setTimeout(() => {
        request().then(renew, (e: unknown) => {
          this.#log(`pod ${this.#ns}/${this.#pod.metadata.name}: renewing the token of volume ${volume} failed (retrying in 10 s): ${(e as Error).message}`);
          renew(10_000);
        });
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    renew(renewIn);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.splice(0)) clearTimeout(t);
  }

  /** Removes the volume directories. */
  remove(): void {
    this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
