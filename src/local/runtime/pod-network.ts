/**
 * Which pod network a local mesh runs: `namespace` (each pod a sandbox of src/local/sandbox with
 * transparent interception) or `loopback` (pods as processes on 127.B.x.y addresses, the sidecar as
 * an explicit HTTP proxy). `auto` picks namespace mode where this machine allows it.
 *
 * Also the records that let the CLI and the API server (other processes than the daemon's runtime)
 * find a pod's sandbox: `<stateDir>/sandbox/mesh-network.json` (written by createMeshNetwork) and
 * `<podDir>/sandbox.json` per pod.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MeshError } from '../../lib/errors.js';
import { SIDECAR_PROXY_UID, sandboxSupport, type MeshNetwork, type PodSandbox, type SandboxSupport } from '../sandbox/index.js';
import { chownInMesh } from '../sandbox/network.js';
import { stateFiles } from '../layout.js';

export type PodNetwork = 'namespace' | 'loopback';
export type PodNetworkChoice = PodNetwork | 'auto';

/** `--pod-network`'s default when the flag is not given (CI can switch every mesh at once). */
export const POD_NETWORK_ENV = 'TESSERA_POD_NETWORK';

/**
 * What `auto` prefers when namespaces are available: namespace mode, now that the seeds' e2e suites
 * and the quickstart pass in it (see docs/architecture.md, "Pod sandboxes").
 */
export const AUTO_PREFERS: PodNetwork = 'namespace' as PodNetwork;

/** FSM's proxy uid; the interception rules exclude it. */
export const SIDECAR_UID = SIDECAR_PROXY_UID;
/** The uid app containers (and `exec`) run as inside a pod. */
export const APP_UID = 1000;

export function parsePodNetwork(value: string | undefined): PodNetworkChoice | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'namespace' || value === 'loopback' || value === 'auto') return value;
  throw new MeshError('MESH_ERR_USAGE', `--pod-network: '${value}' is not one of namespace, loopback, auto`);
}

/** The choice from the flag, else $TESSERA_POD_NETWORK, else auto. */
export function podNetworkChoice(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): PodNetworkChoice {
  return parsePodNetwork(flag) ?? parsePodNetwork(env[POD_NETWORK_ENV]) ?? 'auto';
}

/** What loopback mode does not protect: said loudly whenever a mesh runs in it. */
export const LOOPBACK_WARNINGS = [
  'pods run as processes on shared loopback addresses: any local process can bind a pod address, use a pod\'s outbound proxy (and its identity) and reach apps directly, skipping mTLS and every policy',
  'apps reach the mesh only through http_proxy (no transparent interception); `exec` has no cluster DNS, no pod IP and no volume mounts',
];

export interface PodNetworkDecision {
  mode: PodNetwork;
  /** why namespace mode was not taken (auto) */
  reason?: string;
  support?: SandboxSupport;
}

/** Sandboxed pods with a sidecar need two uids (the sidecar's is excluded from interception). */
export function namespaceModeUsable(s: SandboxSupport): string | undefined {
  if (!s.mode) return s.reason ?? 'no namespace mode on this machine';
  if (s.mode === 'rootless' && s.rootlessUids <= SIDECAR_UID) {
    return `rootless namespaces map only ${s.rootlessUids} uid(s); the sidecar needs uid ${SIDECAR_UID} (add a /etc/subuid and /etc/subgid range of at least 65536 for this user, and install uidmap)`;
  }
  return undefined;
}

/** Resolves a choice on this machine. `namespace` asked for explicitly and impossible is an error. */
export async function decidePodNetwork(choice: PodNetworkChoice, probe: () => Promise<SandboxSupport> = sandboxSupport): Promise<PodNetworkDecision> {
  if (choice === 'loopback') return { mode: 'loopback' };
  const support = await probe();
  const unusable = namespaceModeUsable(support);
  if (choice === 'namespace') {
    if (unusable) throw new MeshError('MESH_ERR_FORBIDDEN', `--pod-network=namespace is not possible here: ${unusable}`);
    return { mode: 'namespace', support };
  }
  if (unusable) return { mode: 'loopback', reason: unusable, support };
  if (AUTO_PREFERS === 'loopback') return { mode: 'loopback', reason: 'auto prefers loopback mode until the e2e suites pass in namespace mode', support };
  return { mode: 'namespace', support };
}

/** Where the mesh network and the sandboxes' own directories live (apart from pods/<ns>/<pod>). */
export function sandboxStateDir(stateDir: string): string {
  return join(stateDir, 'sandbox');
}

/** A pod's sandbox name: unique in the mesh (namespace and name; sandbox names allow `_`). */
export function sandboxName(namespace: string, name: string): string {
  return `${namespace}_${name}`;
}

/** What other processes need to enter a pod: written by the runtime once the sandbox exists. */
export interface SandboxRecord {
  name: string;
  namespace: string;
  ip: string;
  netnsPath: string;
  dir: string;
  hostsFile: string;
  resolvFile: string;
  hostVeth: string;
  /** the app uid commands run as */
  appUid: number;
  /** hostPath → mountPath of volumes every exec in the pod sees (none so far: volumes are per container) */
  mounts: SandboxMount[];
  /**
   * Each container's volumes as the runtime last mounted them (Secret volumes, the ServiceAccount
   * token): `exec` in that container sees them at their mountPath, as the container's processes do.
   */
  containers?: Record<string, SandboxMount[]>;
}

export interface SandboxMount {
  hostPath: string;
  mountPath: string;
  readOnly?: boolean;
}

export function sandboxRecordFile(stateDir: string, namespace: string, pod: string): string {
  return join(stateFiles.podDir(stateDir, namespace, pod), 'sandbox.json');
}

/** What `exec` in `container` mounts: that container's volumes, then the pod-wide ones. */
export function execMounts(record: SandboxRecord, container: string | undefined): SandboxMount[] {
  const own = container === undefined ? [] : record.containers?.[container] ?? [];
  return [...own, ...record.mounts.filter((m) => !own.some((o) => o.mountPath === m.mountPath))];
}

/**
 * Records where `container`'s volumes are mounted in the pod's record (read, changed and replaced
 * whole by a rename, synchronously, so containers starting together never lose each other's entry).
 * A pod without a record (loopback mode, or already gone) is left alone.
 */
export function recordContainerMounts(stateDir: string, namespace: string, pod: string, container: string, mounts: readonly SandboxMount[]): void {
  const file = sandboxRecordFile(stateDir, namespace, pod);
  let record: SandboxRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as SandboxRecord;
  } catch {
    return;
  }
  record.containers = { ...record.containers, [container]: mounts.map((m) => ({ hostPath: m.hostPath, mountPath: m.mountPath, readOnly: m.readOnly === true })) };
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

export async function writeSandboxRecord(stateDir: string, pod: PodSandbox, extra: Pick<SandboxRecord, 'appUid' | 'mounts'>, podName: string): Promise<void> {
  const record: SandboxRecord = {
    name: pod.name, namespace: pod.namespace, ip: pod.ip, netnsPath: pod.netnsPath, dir: pod.dir,
    hostsFile: pod.hostsFile, resolvFile: pod.resolvFile, hostVeth: pod.hostVeth, ...extra,
  };
  await writeFile(sandboxRecordFile(stateDir, pod.namespace, podName), JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
}

/**
 * A sandboxed sidecar's own directory (bind-mounted at its data mount): made if missing, given the
 * cluster CA when `caFile` exists (public, 0644: the state directory's copy is 0600) and handed to
 * the sidecar's uid.
 * Root mode: `SIDECAR_UID:SIDECAR_UID`, 0700, as before. Rootless the owner is set inside the mesh's
 * user namespace (the daemon cannot chown to a subordinate uid) and the group is that namespace's
 * gid 0, the daemon's own group, with 0770: the daemon keeps refreshing `ca.crt` and removing the
 * directory when the pod goes (the sidecar's files are its uid's, which the daemon could not delete
 * otherwise); the pod's apps (uid 1000, no groups) still cannot write there.
 */
export async function prepareSidecarDataDir(net: MeshNetwork, dir: string, caFile: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (existsSync(caFile)) {
    await copyFile(caFile, join(dir, 'ca.crt'));
    await chmod(join(dir, 'ca.crt'), 0o644);
  }
  if (net.mode === 'rootless') await chownInMesh(net, dir, SIDECAR_UID, 0, 0o770);
  else await chownInMesh(net, dir, SIDECAR_UID, SIDECAR_UID, 0o700);
}

function nsenter(): string {
  for (const d of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) if (existsSync(join(d, 'nsenter'))) return join(d, 'nsenter');
  return 'nsenter';
}

/** The `enter` prefix createMeshNetwork builds, for a network read back from its file. */
export function enterArgv(mode: MeshNetwork['mode'], holderPid: number): string[] {
  return mode === 'rootless'
    ? [nsenter(), '-t', String(holderPid), '--user', '--mount', '--net', '--preserve-credentials']
    : [nsenter(), '-t', String(holderPid), '--mount', '--net'];
}

/** The running mesh network of a state directory, or undefined (none, or its holder is gone). */
export function loadMeshNetwork(stateDir: string): MeshNetwork | undefined {
  let raw: Omit<MeshNetwork, 'enter'>;
  try {
    raw = JSON.parse(readFileSync(join(sandboxStateDir(stateDir), 'mesh-network.json'), 'utf8')) as Omit<MeshNetwork, 'enter'>;
  } catch {
    return undefined;
  }
  if (!existsSync(`/proc/${raw.holderPid}`)) return undefined;
  return { ...raw, uidCount: raw.uidCount ?? Number.MAX_SAFE_INTEGER, enter: enterArgv(raw.mode, raw.holderPid) };
}

/** A pod's sandbox as another process sees it, or undefined when the pod runs in loopback mode. */
export function loadPodSandbox(stateDir: string, namespace: string, pod: string): { sandbox: PodSandbox; record: SandboxRecord } | undefined {
  let record: SandboxRecord;
  try {
    record = JSON.parse(readFileSync(sandboxRecordFile(stateDir, namespace, pod), 'utf8')) as SandboxRecord;
  } catch {
    return undefined;
  }
  const net = loadMeshNetwork(stateDir);
  if (!net) return undefined;
  const { appUid: _u, mounts: _m, containers: _c, ...shape } = record;
  return { sandbox: { ...shape, net }, record };
}

/** Proxy variables and loopback-mode helpers a command inside a sandbox must not see. */
export function withoutProxyVariables(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (/^(https?|no|all)_proxy$/i.test(k) || k === 'TESSERA_UPSTREAMS_FILE') continue;
    out[k] = v;
  }
  return out;
}
