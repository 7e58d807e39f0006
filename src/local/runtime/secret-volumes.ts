/**
 * Secret volumes in local mode. A container's processes cannot see absolute container paths such as
 * /etc/certs, so each Secret volume a container mounts is written as files (0600) under
 * `<podDir>/volumes/<volume>/` and the process is pointed at that directory two ways: the env
 * variable `TESSERA_MOUNT_<VOLUME>` (upper case, `-` → `_`), and the mountPath prefix replaced by
 * the directory in the command, args and env values (`--cert /etc/certs/tls.crt` runs as
 * `--cert <podDir>/volumes/certs/tls.crt`). Files are written at every (re)start of the container.
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
}

interface SecretVolumeSource {
  secretName: string;
  items?: { key: string; path: string }[];
  optional?: boolean;
}

/** Secret data (base64) plus stringData, decoded. */
function secretFiles(secret: Resource): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const s = secret as unknown as { data?: Record<string, string>; stringData?: Record<string, string> };
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = Buffer.from(v, 'utf8');
  return out;
}

/** A relative path that stays inside the volume directory. */
function safeRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !path.split('/').some((p) => p === '..' || p === '');
}

/**
 * Writes the Secret volumes `container` mounts and returns where each went. Throws
 * MESH_ERR_NOT_FOUND when a non-optional Secret does not exist yet (Kubernetes keeps the container
 * in ContainerCreating until it does).
 */
export function mountSecretVolumes(
  opts: { stateDir: string; namespace: string; pod: string; spec: PodSpec | undefined; container: Container },
  getSecret: (namespace: string, name: string) => Resource | undefined,
): MountedVolume[] {
  const mounted: MountedVolume[] = [];
  for (const mount of opts.container.volumeMounts ?? []) {
    const volume = opts.spec?.volumes?.find((v) => v.name === mount.name);
    const source = volume?.secret as SecretVolumeSource | undefined;
    if (!volume || !source) continue;
    const secret = getSecret(opts.namespace, source.secretName);
    if (!secret && source.optional !== true) {
      throw new MeshError('MESH_ERR_NOT_FOUND', `MountVolume.SetUp failed for volume "${volume.name}": secret "${source.secretName}" not found`);
    }
    const dir = join(stateFiles.podDir(opts.stateDir, opts.namespace, opts.pod), 'volumes', volume.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const data = secret ? secretFiles(secret) : {};
    const entries = source.items ? source.items.map((i) => [i.path, data[i.key]] as const) : Object.entries(data);
    for (const [path, content] of entries) {
      if (content === undefined || !safeRelative(path)) continue;
      const file = join(dir, path);
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(file, content, { mode: 0o600 });
      chmodSync(file, 0o600);
    }
    mounted.push({ volume: volume.name, mountPath: mount.mountPath.replace(/\/+$/, '') || '/', dir });
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
