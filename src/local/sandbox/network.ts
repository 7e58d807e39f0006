/**
 * A mesh's private network and its pods' sandboxes.
 *
 * Layout: a long-lived *holder* process (`sleep infinity` started by `unshare`) owns the mesh's
 * "node" namespaces: a network namespace with the bridge `tbr0` and the gateway address, a mount
 * namespace holding the pods' network-namespace files (on a tmpfs over `<stateDir>/netns`) and,
 * rootless, the user namespace that owns both (as rootless container engines do: the user is root
 * only inside it). Each pod is a network namespace with `lo`, `eth0` (a veth whose peer is on the
 * bridge), its IP and a default route via the gateway.
 *
 * Why the bridge is not in the host's network namespace: pod addresses must never be reachable by
 * other users of the machine. Only processes that enter the holder's namespaces reach them, which
 * takes CAP_SYS_ADMIN (root mode) or being the owning user (rootless). Control-plane processes
 * that pods must reach run there too (`runInMesh`); the host talks to them over Unix sockets in the
 * 0700 state directory. It also makes teardown crash-safe: when the holder and the pods' processes
 * are gone, the kernel frees every namespace, veth and route; nothing is left on the host.
 *
 * Address range: `10.224.0.0/11`, one /20 per mesh chosen from a hash of the mesh name (`meshSubnet`).
 * Meshes live in separate network namespaces, so even a hash collision between two meshes on one
 * machine cannot clash; the range only has to differ from what pods dial outside the mesh.
 */
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeshError } from '../../lib/errors.js';
import { run, succeeds } from './commands.js';
import { POD_ENTRY_SCRIPT } from './pod-entry.js';

export type SandboxMode = 'root' | 'rootless';

/** The system tools the sandboxes need (Debian: iproute2, util-linux, iptables, coreutils). */
export const SANDBOX_TOOLS = ['ip', 'nsenter', 'unshare', 'iptables-restore', 'ip6tables-restore', 'setpriv', 'chroot', 'mount', 'umount'] as const;

const TOOL_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function tool(name: string): string {
  for (const d of TOOL_DIRS) if (existsSync(join(d, name))) return join(d, name);
  throw new MeshError('MESH_ERR_INTERNAL', `sandbox: ${name} not found in ${TOOL_DIRS.join(':')} (install iproute2, util-linux, iptables)`);
}

export interface SandboxSupport {
  /** root: namespaces without a user namespace, every uid usable */
  root: boolean;
  /** an unprivileged user namespace can be created here */
  rootless: boolean;
  /** newuidmap and a /etc/subuid range for the current user: rootless pods can use more than one uid */
  rootlessUids: number;
  missingTools: string[];
  /** the mode `createMeshNetwork({ mode: 'auto' })` picks, or undefined with `reason` */
  mode?: SandboxMode;
  reason?: string;
}

interface SubRange {
  start: number;
  count: number;
}

function subRange(file: string, user: string, id: number): SubRange | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if ((who === user || who === String(id)) && start && count) return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

function subordinateRanges(): { uid: SubRange; gid: SubRange } | undefined {
  if (!TOOL_DIRS.some((d) => existsSync(join(d, 'newuidmap'))) || !TOOL_DIRS.some((d) => existsSync(join(d, 'newgidmap')))) {
    return undefined;
  }
  const me = userInfo();
  const uid = subRange('/etc/subuid', me.username, me.uid);
  const gid = subRange('/etc/subgid', me.username, me.gid);
  return uid && gid ? { uid, gid } : undefined;
}

/** What this machine allows, without changing anything. */
export async function sandboxSupport(): Promise<SandboxSupport> {
  const missingTools = SANDBOX_TOOLS.filter((t) => !TOOL_DIRS.some((d) => existsSync(join(d, t))));
  const root = process.getuid?.() === 0;
  const rootless = missingTools.includes('unshare') ? false : await succeeds([tool('unshare'), '--user', '--map-root-user', '--net', '--mount', 'true']);
  const sub = subordinateRanges();
  const rootlessUids = rootless ? 1 + (sub ? Math.min(sub.uid.count, sub.gid.count) : 0) : 0;
  const s: SandboxSupport = { root, rootless, rootlessUids, missingTools };
  if (missingTools.length > 0) s.reason = `missing tools: ${missingTools.join(', ')}`;
  else if (root) s.mode = 'root';
  else if (rootless) s.mode = 'rootless';
  else s.reason = 'not root and user namespaces are not allowed (kernel.unprivileged_userns_clone or user.max_user_namespaces)';
  return s;
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new MeshError('MESH_ERR_USAGE', `'${ip}' is not an IPv4 address`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The mesh's default pod range: a /20 inside 10.224.0.0/11, from a hash of the mesh name. */
export function meshSubnet(meshName: string): string {
  const h = createHash('sha256').update(meshName).digest().readUInt16BE(0) % 512;
  return intToIp(ipToInt('10.224.0.0') + h * 4096) + '/20';
}

export interface MeshNetworkOptions {
  meshName: string;
  /** the daemon's own directory (0700); gets netns/ and pods/<name>/ */
  stateDir: string;
  mode?: SandboxMode | 'auto';
  /** IPv4 range for the gateway and pods; default `meshSubnet(meshName)` */
  cidr?: string;
}

export interface MeshNetwork {
  readonly meshName: string;
  readonly mode: SandboxMode;
  readonly cidr: string;
  readonly prefix: number;
  /** the bridge's address in the node namespace: the pods' default route */
  readonly gateway: string;
  /** the process that owns the namespaces; killing it (and the pods' processes) frees everything */
  readonly holderPid: number;
  readonly stateDir: string;
  /** uids usable in pods are 0..uidCount-1 (root mode: all) */
  readonly uidCount: number;
  /** argv prefix that runs a command as root in the node's user, mount and network namespaces */
  readonly enter: readonly string[];
}

export interface PodSandbox {
  readonly net: MeshNetwork;
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  /** the pod's network-namespace file, valid inside the node's mount namespace */
  readonly netnsPath: string;
  readonly dir: string;
  readonly hostsFile: string;
  readonly resolvFile: string;
  /** the veth end on the bridge */
  readonly hostVeth: string;
}

const allocated = new WeakMap<MeshNetwork, Set<string>>();

function nsInode(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

async function waitForUnshare(pid: number, kinds: readonly string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (kinds.every((k) => {
      const theirs = nsInode(`/proc/${pid}/ns/${k}`);
      return theirs !== undefined && theirs !== nsInode(`/proc/self/ns/${k}`);
    })) return;
    if (!existsSync(`/proc/${pid}`)) break;
    await sleep(5);
  }
  throw new MeshError('MESH_ERR_INTERNAL', `sandbox: the namespace holder (pid ${pid}) did not start its namespaces`);
}

function validName(what: string, name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,252}$/.test(name)) {
    throw new MeshError('MESH_ERR_USAGE', `${what} '${name}': letters, digits, '.', '_' and '-' only, starting with a letter or digit`);
  }
}

/**
 * Starts the mesh's holder, bridge and gateway. Root mode needs uid 0; rootless needs user
 * namespaces, and for pods with more than one uid (the sidecar's uid exclusion) newuidmap and a
 * /etc/subuid range, as rootless Podman does.
 */
export async function createMeshNetwork(opts: MeshNetworkOptions): Promise<MeshNetwork> {
  validName('mesh name', opts.meshName);
  const support = await sandboxSupport();
  const mode = !opts.mode || opts.mode === 'auto' ? support.mode : opts.mode;
  if (!mode) throw new MeshError('MESH_ERR_FORBIDDEN', `sandbox: no namespace mode here: ${support.reason}`);
  if (mode === 'root' && !support.root) throw new MeshError('MESH_ERR_FORBIDDEN', 'sandbox: root mode needs uid 0');
  if (mode === 'rootless' && !support.rootless) throw new MeshError('MESH_ERR_FORBIDDEN', 'sandbox: user namespaces are not allowed here');
  const cidr = opts.cidr ?? meshSubnet(opts.meshName);
  const [base, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (!base || !Number.isInteger(prefix) || prefix < 8 || prefix > 28) throw new MeshError('MESH_ERR_USAGE', `mesh cidr '${cidr}': want an IPv4 /8../28`);
  const network = ipToInt(base) & (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
  const gateway = intToIp(network + 1);

  await mkdir(join(opts.stateDir, 'netns'), { recursive: true, mode: 0o700 });
  await mkdir(join(opts.stateDir, 'pods'), { recursive: true, mode: 0o700 });

  const flags = mode === 'rootless' ? ['--user', '--net', '--mount', '--propagation', 'private'] : ['--net', '--mount', '--propagation', 'private'];
  // Detached: the namespaces must outlive a daemon restart only if the runner wants that; it owns the pid.
  const holder = spawn(tool('unshare'), [...flags, '--', 'sleep', 'infinity'], { detached: true, stdio: 'ignore' });
  holder.unref();
  const pid = holder.pid;
  if (pid === undefined) throw new MeshError('MESH_ERR_INTERNAL', 'sandbox: could not start the namespace holder');
  let uidCount = Number.MAX_SAFE_INTEGER;
  try {
    await waitForUnshare(pid, mode === 'rootless' ? ['user', 'net', 'mnt'] : ['net', 'mnt']);
    if (mode === 'rootless') uidCount = await mapIds(pid);
    // --preserve-credentials: the user is already uid 0 inside, and with a single-uid map
    // (setgroups denied) nsenter's own setgroups() would fail.
    const enter =
      mode === 'rootless'
        ? [tool('nsenter'), '-t', String(pid), '--user', '--mount', '--net', '--preserve-credentials']
        : [tool('nsenter'), '-t', String(pid), '--mount', '--net'];
    const net: MeshNetwork = { meshName: opts.meshName, mode, cidr: `${intToIp(network)}/${prefix}`, prefix, gateway, holderPid: pid, stateDir: opts.stateDir, uidCount, enter };
    await run([...enter, '/bin/sh', '-euc', NODE_SETUP, 'tessera-node', join(opts.stateDir, 'netns'), `${gateway}/${prefix}`], {
      what: `sandbox: mesh ${opts.meshName} network`,
    });
    allocated.set(net, new Set([gateway]));
    await writeFile(join(opts.stateDir, 'mesh-network.json'), JSON.stringify({ ...net, enter: undefined }, null, 2) + '\n', { mode: 0o600 });
    return net;
  } catch (e) {
    killHolder(pid);
    throw e;
  }
}

const NODE_SETUP = `mount -t tmpfs -o mode=0700 tessera-netns "$1"
ip link set lo up
ip link add tbr0 type bridge
ip addr add "$2" dev tbr0
ip link set tbr0 up`;

/** Writes the holder's uid/gid maps: the user is 0 inside; with subordinate ranges, 1.. too. */
async function mapIds(pid: number): Promise<number> {
  const me = userInfo();
  const sub = subordinateRanges();
  if (sub) {
    await run([tool('newuidmap'), String(pid), '0', String(me.uid), '1', '1', String(sub.uid.start), String(sub.uid.count)], { what: 'newuidmap' });
    await run([tool('newgidmap'), String(pid), '0', String(me.gid), '1', '1', String(sub.gid.start), String(sub.gid.count)], { what: 'newgidmap' });
    return 1 + Math.min(sub.uid.count, sub.gid.count);
  }
  await writeFile(`/proc/${pid}/uid_map`, `0 ${me.uid} 1\n`);
  await writeFile(`/proc/${pid}/setgroups`, 'deny\n');
  await writeFile(`/proc/${pid}/gid_map`, `0 ${me.gid} 1\n`);
  return 1;
}

function killHolder(pid: number): void {
  // Only our own `sleep infinity`: the pid could have been reused after a crash.
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmd !== 'sleep\0infinity\0') return;
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Kills the holder; the namespaces go with it once no pod process is left in them. */
export async function destroyMeshNetwork(net: MeshNetwork): Promise<void> {
  killHolder(net.holderPid);
  const deadline = Date.now() + 5000;
  while (existsSync(`/proc/${net.holderPid}`) && Date.now() < deadline) await sleep(10);
  await rm(join(net.stateDir, 'mesh-network.json'), { force: true });
}

function allocateIp(net: MeshNetwork): string {
  const used = allocated.get(net) ?? new Set<string>();
  const first = ipToInt(net.gateway) + 1;
  const last = ipToInt(net.cidr.split('/')[0]!) + 2 ** (32 - net.prefix) - 2;
  for (let n = first; n <= last; n++) if (!used.has(intToIp(n))) return intToIp(n);
  throw new MeshError('MESH_ERR_INTERNAL', `sandbox: mesh ${net.meshName}: no free address in ${net.cidr}`);
}

function inRange(net: MeshNetwork, ip: string): boolean {
  const mask = (~0 << (32 - net.prefix)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ipToInt(net.cidr.split('/')[0]!);
}

function vethName(pod: string): string {
  return 'tv' + createHash('sha256').update(pod).digest('hex').slice(0, 12);
}

export interface PodSandboxOptions {
  name: string;
  /** Kubernetes namespace, for the resolv.conf search path; default `default` */
  namespace?: string;
  /** default: the next free address of the mesh range */
  ip?: string;
}

/** A pod's network namespace on the bridge, and its directory for hosts/resolv.conf. */
export async function createPodSandbox(net: MeshNetwork, opts: PodSandboxOptions): Promise<PodSandbox> {
  validName('pod name', opts.name);
  const namespace = opts.namespace ?? 'default';
  const used = allocated.get(net) ?? new Set<string>();
  const ip = opts.ip ?? allocateIp(net);
  if (!inRange(net, ip) || ip === net.gateway) throw new MeshError('MESH_ERR_USAGE', `pod ${opts.name}: ${ip} is not a pod address of ${net.cidr}`);
  if (used.has(ip)) throw new MeshError('MESH_ERR_ALREADY_EXISTS', `pod ${opts.name}: ${ip} is already in use in mesh ${net.meshName}`);
  used.add(ip);
  allocated.set(net, used);
  const dir = join(net.stateDir, 'pods', opts.name);
  const pod: PodSandbox = {
    net,
    name: opts.name,
    namespace,
    ip,
    netnsPath: join(net.stateDir, 'netns', opts.name),
    dir,
    hostsFile: join(dir, 'hosts'),
    resolvFile: join(dir, 'resolv.conf'),
    hostVeth: vethName(opts.name),
  };
  try {
    await mkdir(join(dir, 'root'), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'shadow'), { recursive: true, mode: 0o700 });
    await writePodHosts(pod, []);
    // No nameserver: cluster names come from /etc/hosts, and a lookup that misses fails at once
    // (glibc tries 127.0.0.1:53 inside the pod, where nothing listens) instead of leaking to the host's DNS.
    await writeFile(
      pod.resolvFile,
      `search ${namespace}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`,
      { mode: 0o644 },
    );
    await run([...net.enter, '/bin/sh', '-euc', POD_SETUP, 'tessera-pod-net', pod.netnsPath, pod.hostVeth, String(net.holderPid), `${ip}/${net.prefix}`, net.gateway], {
      what: `sandbox: pod ${opts.name} network`,
    });
    return pod;
  } catch (e) {
    used.delete(ip);
    await destroyPodSandbox(pod).catch(() => undefined);
    throw e;
  }
}

// The veth is made from inside the pod so its peer can be named by the holder's pid: rootless, the
// pod's namespace has no name /run/netns would know.
const POD_SETUP = `: > "$1"
unshare --net="$1" true
nsenter --net="$1" ip link add eth0 type veth peer name "$2" netns "$3"
ip link set "$2" master tbr0 up
nsenter --net="$1" /bin/sh -euc '
ip link set lo up
ip link set eth0 up
ip addr add "$1" dev eth0
ip route add default via "$2"
echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start
# Service cluster IPs are on 127/8 here: their DNAT to a pod IP leaves by eth0 (then SNAT to the pod IP).
echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet
echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet
# The mesh bridge is IPv4 only: no IPv6 (not even link-local) on eth0, so nothing reaches a
# neighbour over IPv6 around the interception rules. ::1 on lo stays.
if [ -e /proc/sys/net/ipv6/conf/eth0/disable_ipv6 ]; then echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6; fi
' tessera-pod-if "$4" "$5"`;

/** Frees the pod's network namespace (once its processes are gone) and its directory. */
export async function destroyPodSandbox(pod: PodSandbox): Promise<void> {
  if (existsSync(`/proc/${pod.net.holderPid}`)) {
    await run([...pod.net.enter, '/bin/sh', '-c', 'ip link del "$2" 2>/dev/null; umount "$1" 2>/dev/null; rm -f "$1"; true', 'tessera-pod-del', pod.netnsPath, pod.hostVeth]);
  }
  allocated.get(pod.net)?.delete(pod.ip);
  await rm(pod.dir, { recursive: true, force: true });
}

export interface HostEntry {
  ip: string;
  names: readonly string[];
}

/** The cluster DNS names of services as a pod in `podNamespace` sees them (`svc` only in its own namespace). */
export function serviceHostEntries(services: readonly { name: string; namespace: string; ip: string }[], podNamespace: string): HostEntry[] {
  return services.map((s) => ({
    ip: s.ip,
    names: [...(s.namespace === podNamespace ? [s.name] : []), `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`],
  }));
}

/** Rewrites the pod's /etc/hosts (seen at once by its processes: the file is bind-mounted, replaced in place). */
export async function writePodHosts(pod: PodSandbox, entries: readonly HostEntry[]): Promise<void> {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${pod.ip}\t${pod.name}`];
  for (const e of entries) if (e.names.length > 0) lines.push(`${e.ip}\t${e.names.join(' ')}`);
  // Written in place, not renamed: a bind mount pins the inode, so a rename would go unseen.
  await writeFile(pod.hostsFile, lines.join('\n') + '\n', { mode: 0o644 });
}

export interface VolumeMount {
  /** a file or directory of the host (the daemon's), shown at mountPath in the pod */
  hostPath: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface RunOptions {
  /** default 0 (root of the pod; rootless: the daemon's user) */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
  mounts?: readonly VolumeMount[];
}

function checkUid(net: MeshNetwork, uid: number | undefined, what: string): void {
  if (uid === undefined) return;
  if (!Number.isInteger(uid) || uid < 0) throw new MeshError('MESH_ERR_USAGE', `${what}: uid ${uid} is not a uid`);
  if (uid >= net.uidCount) {
    throw new MeshError(
      'MESH_ERR_FORBIDDEN',
      `${what}: uid ${uid} is not mapped in mesh ${net.meshName}'s user namespace (uids 0..${net.uidCount - 1}); rootless pods need newuidmap and a /etc/subuid range`,
    );
  }
}

/**
 * Spawns argv inside the pod: its network namespace and a private mount namespace with the pod's
 * /etc/hosts, /etc/resolv.conf and volumes. The returned child's pid is the app's own (every step
 * execs), so the runner can signal it directly.
 */
export function runInPod(pod: PodSandbox, argv: readonly string[], opts: RunOptions = {}): ChildProcess {
  if (argv.length === 0) throw new MeshError('MESH_ERR_USAGE', `pod ${pod.name}: empty command`);
  checkUid(pod.net, opts.uid, `pod ${pod.name}`);
  const mounts = opts.mounts ?? [];
  for (const m of mounts) {
    if (!m.mountPath.startsWith('/')) throw new MeshError('MESH_ERR_USAGE', `pod ${pod.name}: mountPath '${m.mountPath}' is not absolute`);
  }
  const uid = opts.uid === undefined || opts.uid === 0 ? '' : String(opts.uid);
  const gid = uid === '' ? '' : String(opts.gid ?? opts.uid);
  const args = [
    ...pod.net.enter.filter((a) => a !== '--net'),
    tool('nsenter'),
    `--net=${pod.netnsPath}`,
    tool('unshare'),
    '--mount',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    POD_ENTRY_SCRIPT,
    'tessera-pod',
    join(pod.dir, 'root'),
    join(pod.dir, 'shadow'),
    pod.hostsFile,
    pod.resolvFile,
    uid,
    gid,
    opts.cwd ?? '/',
    String(mounts.length),
    ...mounts.flatMap((m) => [m.hostPath, m.mountPath, m.readOnly ? 'ro' : 'rw']),
    '--',
    ...argv,
  ];
  return spawn(args[0]!, args.slice(1), { env: opts.env ?? {}, stdio: opts.stdio ?? 'pipe' });
}

/**
 * Gives `path` (a file or directory of the daemon's, or one it gave away before) to `uid`:`gid` as
 * the pods see them, with `mode` when given. Root mode: a plain chown. Rootless the daemon cannot
 * chown to another host uid (EPERM), nor chmod what it gave away: both run as root of the mesh's
 * user namespace, where the ids are mapped (`gid` 0 there is the daemon's own group). An id the
 * mesh does not map fails with MESH_ERR_FORBIDDEN.
 */
export async function chownInMesh(net: MeshNetwork, path: string, uid: number, gid: number = uid, mode?: number): Promise<void> {
  checkUid(net, uid, `chown ${path}`);
  checkUid(net, gid, `chown ${path}`);
  if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) throw new MeshError('MESH_ERR_USAGE', `chown ${path}: mode ${mode} is not a file mode`);
  if (net.mode === 'root') {
    chownSync(path, uid, gid);
    if (mode !== undefined) chmodSync(path, mode);
    return;
  }
  // -h: the daemon's own entry, never what a link there names. Only the user namespace is entered:
  // the path is the daemon's.
  const script = 'chown -h -- "$1" "$3"; [ -z "$2" ] || chmod -- "$2" "$3"';
  await run([...net.enter.filter((a) => a !== '--net' && a !== '--mount'), '/bin/sh', '-euc', script, 'tessera-chown', `${uid}:${gid}`, mode === undefined ? '' : mode.toString(8), path], {
    what: `sandbox: mesh ${net.meshName}: chown ${uid}:${gid} ${path}`,
  });
}

/** Spawns argv in the mesh's node namespace (where the bridge is): control-plane processes pods must reach. */
export function runInMesh(net: MeshNetwork, argv: readonly string[], opts: Omit<RunOptions, 'mounts'> = {}): ChildProcess {
  if (argv.length === 0) throw new MeshError('MESH_ERR_USAGE', `mesh ${net.meshName}: empty command`);
  checkUid(net, opts.uid, `mesh ${net.meshName}`);
  const drop = opts.uid ? [tool('setpriv'), `--reuid=${opts.uid}`, `--regid=${opts.gid ?? opts.uid}`, '--clear-groups', '--'] : [];
  const args = [...net.enter, ...(opts.cwd ? [`--wd=${opts.cwd}`] : []), ...drop, ...argv];
  return spawn(args[0]!, args.slice(1), { env: opts.env ?? {}, stdio: opts.stdio ?? 'pipe' });
}

/**
 * The init step: loads an iptables-restore document into the pod's nat table (replacing it whole;
 * with `noflush`, only the chains the document declares).
 */
export async function applyInterception(pod: PodSandbox, rules: string, opts: { ipv6?: boolean; noflush?: boolean } = {}): Promise<void> {
  const restore = opts.ipv6 ? 'ip6tables-restore' : 'iptables-restore';
  await run([...pod.net.enter, tool('nsenter'), `--net=${pod.netnsPath}`, tool(restore), ...(opts.noflush ? ['--noflush'] : [])], {
    input: rules,
    what: `pod ${pod.name}: ${restore}`,
  });
}

const DIAL_MAIN = fileURLToPath(new URL('./dial-main.js', import.meta.url));

/**
 * A byte stream over a child's stdin/stdout, with the few Socket methods HTTP clients call. Not a
 * socket: the connection itself lives in the child (another network namespace).
 */
export class ChildStream extends Duplex {
  readonly #child: ChildProcess;
  constructor(child: ChildProcess) {
    super({ allowHalfOpen: true });
    this.#child = child;
    const out = child.stdout!;
    out.on('data', (d: Buffer) => {
      if (!this.push(d)) out.pause();
    });
    out.once('end', () => this.push(null));
    child.stdin!.on('error', () => undefined);
    child.once('exit', () => {
      if (!this.readableEnded) this.push(null);
    });
  }
  override _read(): void {
    this.#child.stdout!.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.#child.stdin!.write(chunk, cb);
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.#child.stdin!.end(cb);
  }
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    cb(err);
  }
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

/**
 * A TCP connection opened from inside the pod's network namespace (as root there, so interception
 * lets it through to the pod's own addresses): how processes of the host — the API server's
 * pods/proxy and port-forward — reach a pod's loopback, its app ports and its sidecar's admin port.
 * Resolves once connected; rejects with the reason.
 */
export function dialInPod(pod: PodSandbox, host: string, port: number): Promise<ChildStream> {
  const args = [...pod.net.enter.filter((a) => a !== '--net'), tool('nsenter'), `--net=${pod.netnsPath}`, process.execPath, DIAL_MAIN, host, String(port)];
  const child = spawn(args[0]!, args.slice(1), { env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    let settled = false;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (!settled && err.includes('connected\n')) {
        settled = true;
        resolve(new ChildStream(child));
      }
    });
    child.once('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    child.once('exit', (code) => {
      if (!settled) reject(new MeshError('MESH_ERR_INTERNAL', `pod ${pod.name}: connecting to ${host}:${port} failed: ${err.trim() || `exit ${code}`}`));
      settled = true;
    });
  });
}
