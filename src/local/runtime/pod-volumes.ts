/**
 * Pod volumes in local mode (secret, configMap, emptyDir, projected). Each volume a container mounts
 * is written as files (0600) under `<podDir>/volumes/<volume>/`. Namespace mode bind-mounts that
 * directory at the mountPath. In loopback mode a container's processes cannot see absolute container
 * paths such as /etc/certs, so the process is pointed at the directory two ways: the env variable
 * `TESSERA_MOUNT_<VOLUME>` (upper case, `-` → `_`), and the mountPath prefix replaced by the directory
 * in the command, args and env values (`--cert /etc/certs/tls.crt` runs as
 * `--cert <podDir>/volumes/certs/tls.crt`). Files are written at every (re)start of the container;
 * an emptyDir keeps its contents for the pod's life.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, PodSpec, Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import { stateFiles } from '../layout.js';
import type { ContainerCommand } from './types.js';

export const MOUNT_ENV_PREFIX = 'TESSERA_MOUNT_';

/** `certs-volume` → `TESSERA_MOUNT_CERTS_VOLUME`. */
export function mountEnvName(volume: string): string {
  return MOUNT_ENV_PREFIX + volume.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export interface MountedVolume {
  volume: string;
  mountPath: string;
  dir: string;
  /** false for a writable mount (an emptyDir the mount does not make read-only); the rest are read-only, as a kubelet mounts them */
  readOnly?: boolean;
}

interface KeyToPath {
  key: string;
  path: string;
}
interface ObjectSource {
  /** a ConfigMap's name */
  name?: string;
  /** a Secret's name (a Secret volume's field) */
  secretName?: string;
  items?: KeyToPath[];
  optional?: boolean;
}
interface ProjectedSource {
  secret?: ObjectSource;
  configMap?: ObjectSource;
  downwardAPI?: { items?: { path: string; fieldRef?: { fieldPath: string } }[] };
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
}
interface VolumeSource {
  name: string;
  secret?: ObjectSource;
  configMap?: ObjectSource;
  emptyDir?: unknown;
  projected?: { sources?: ProjectedSource[] };
}

/** Where a pod's volume contents come from: the store's objects, the pod's fields, the token issuer. */
export interface VolumeSources {
  get(kind: 'Secret' | 'ConfigMap', namespace: string, name: string): Resource | undefined;
  /** a downward-API field of the pod (`metadata.name`, `metadata.labels['app']`, …), undefined when unsupported */
  podField?(fieldPath: string): string | undefined;
  /**
   * Writes a ServiceAccount token bound to the pod into `file` (audience, lifetime in seconds) and
   * keeps it fresh as the kubelet does; undefined: projected tokens cannot be made here.
   */
  writeToken?(file: string, audience: string | undefined, expirationSeconds: number): void;
}

/** Secret data (base64) plus stringData, or ConfigMap data (text) plus binaryData (base64), decoded. */
function objectFiles(kind: 'Secret' | 'ConfigMap', object: Resource): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const o = object as unknown as { data?: Record<string, string>; stringData?: Record<string, string>; binaryData?: Record<string, string> };
  for (const [k, v] of Object.entries(o.data ?? {})) out[k] = kind === 'Secret' ? Buffer.from(v, 'base64') : Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(kind === 'Secret' ? o.stringData ?? {} : {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(kind === 'ConfigMap' ? o.binaryData ?? {} : {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

/** A relative path that stays inside the volume directory. */
function safeRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !path.split('/').some((p) => p === '..' || p === '' || p === '.');
}

function setUpFailed(volume: string, why: string): MeshError {
  return new MeshError('MESH_ERR_NOT_FOUND', `MountVolume.SetUp failed for volume "${volume}": ${why}`);
}

function writeFile(dir: string, path: string, content: Buffer | string): void {
  const file = join(dir, path);
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function writeObject(volume: string, dir: string, namespace: string, kind: 'Secret' | 'ConfigMap', source: ObjectSource, sources: VolumeSources): void {
  const name = kind === 'Secret' ? source.secretName ?? source.name : source.name;
  if (!name) throw setUpFailed(volume, `the ${kind} has no name`);
  const object = sources.get(kind, namespace, name);
  if (!object) {
    if (source.optional === true) return;
    throw setUpFailed(volume, `${kind === 'Secret' ? 'secret' : 'configmap'} "${name}" not found`);
  }
  const data = objectFiles(kind, object);
  const entries = source.items ? source.items.map((i) => [i.path, data[i.key]] as const) : Object.entries(data);
  for (const [path, content] of entries) {
    if (content === undefined) {
      if (source.optional === true) continue;
      throw setUpFailed(volume, `${kind} "${name}" has no key for "${path}"`);
    }
    if (!safeRelative(path)) throw setUpFailed(volume, `path "${path}" leaves the volume`);
    writeFile(dir, path, content);
  }
}

/**
 * Writes the volumes `container` mounts, as a kubelet does for these kinds: `secret`, `configMap`,
 * `emptyDir` (empty, writable by the pod's uids) and `projected` (`secret`, `configMap`,
 * `downwardAPI`, `serviceAccountToken`), and returns where each went. Files are 0600 (namespace mode
 * opens them to the pod's uids when it binds them in). Throws MESH_ERR_NOT_FOUND while a
 * non-optional object is missing (Kubernetes keeps the container in ContainerCreating until it
 * exists), and for a volume kind local mode does not make.
 */
export function mountPodVolumes(
  opts: { stateDir: string; namespace: string; pod: string; spec: PodSpec | undefined; container: Container },
  sources: VolumeSources,
): MountedVolume[] {
  const mounted: MountedVolume[] = [];
  for (const mount of opts.container.volumeMounts ?? []) {
    const volume = opts.spec?.volumes?.find((v) => v.name === mount.name) as VolumeSource | undefined;
    if (!volume) continue;
    const dir = join(stateFiles.podDir(opts.stateDir, opts.namespace, opts.pod), 'volumes', volume.name);
    if (volume.emptyDir !== undefined) {
      // kept across container restarts, as a kubelet keeps it for the pod's life; every uid of the pod may write
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o1777);
    } else {
      if (!volume.secret && !volume.configMap && !volume.projected) continue; // e.g. the ServiceAccount token volume (service-account-token.ts)
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (volume.secret) writeObject(volume.name, dir, opts.namespace, 'Secret', volume.secret, sources);
      else if (volume.configMap) writeObject(volume.name, dir, opts.namespace, 'ConfigMap', volume.configMap, sources);
      else {
        for (const source of volume.projected?.sources ?? []) {
          if (source.secret) writeObject(volume.name, dir, opts.namespace, 'Secret', source.secret, sources);
          else if (source.configMap) writeObject(volume.name, dir, opts.namespace, 'ConfigMap', source.configMap, sources);
          else if (source.downwardAPI) {
            for (const item of source.downwardAPI.items ?? []) {
              const value = item.fieldRef ? sources.podField?.(item.fieldRef.fieldPath) : undefined;
              if (value === undefined) throw setUpFailed(volume.name, `downwardAPI item "${item.path}": unsupported field`);
              if (!safeRelative(item.path)) throw setUpFailed(volume.name, `path "${item.path}" leaves the volume`);
              writeFile(dir, item.path, value);
            }
          } else if (source.serviceAccountToken) {
            const t = source.serviceAccountToken;
            if (!safeRelative(t.path)) throw setUpFailed(volume.name, `path "${t.path}" leaves the volume`);
            if (!sources.writeToken) throw setUpFailed(volume.name, 'projected ServiceAccount tokens cannot be made here');
            sources.writeToken(join(dir, t.path), t.audience, Math.max(600, t.expirationSeconds ?? 3600));
          }
        }
      }
    }
    const writable = volume.emptyDir !== undefined && (mount as { readOnly?: boolean }).readOnly !== true;
    mounted.push({ volume: volume.name, mountPath: mount.mountPath.replace(/\/+$/, '') || '/', dir, ...(writable ? { readOnly: false } : {}) });
  }
  return mounted;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces each mountPath prefix (a whole path component, not `/etc/certsX`) with its directory. */
export function rewritePaths(value: string, mounts: readonly MountedVolume[]): string {
  let out = value;
  // Longest first, so /etc/certs/client wins over /etc/certs.
  for (const m of [...mounts].sort((a, b) => b.mountPath.length - a.mountPath.length)) {
    const re = new RegExp(`(?<![\\w.\\-/])${escapeRegExp(m.mountPath)}(?=/|$|[^\\w.\\-])`, 'g');
    out = out.replace(re, () => m.dir);
  }
  return out;
}

/** The command with its paths rewritten and `TESSERA_MOUNT_<VOLUME>` set for each mount. */
export function withMounts(cmd: ContainerCommand, mounts: readonly MountedVolume[]): ContainerCommand {
  if (mounts.length === 0) return cmd;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(cmd.env)) env[k] = rewritePaths(v, mounts);
  for (const m of mounts) env[mountEnvName(m.volume)] = m.dir;
  return {
    ...cmd,
    ...(cmd.command === undefined ? {} : { command: rewritePaths(cmd.command, mounts) }),
    args: cmd.args.map((a) => rewritePaths(a, mounts)),
    env,
  };
}
