/** The state directory's identity files: mesh.json, the mesh key, and the leased address block. */
import { createFileOnce as createFileOnceRaw, writeFileAtomic as writeFileAtomicRaw } from '../lib/atomic-file.js';
import { processExists } from '../lib/process.js';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync, lstatSync, mkdirSync, readFileSync, rmdirSync, rmSync, statfsSync, statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MeshError } from '../lib/errors.js';
import { API_PORT, stateFiles, type MeshFile } from './layout.js';

// ---------------------------------------------------------------------------------------------
// mesh.json

/** Reads mesh.json; undefined when the mesh was never started (or was cleaned up). */
export function readMeshFile(stateDir: string): MeshFile | undefined {
  const file = stateFiles.mesh(stateDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as MeshFile;
  } catch (e) {
    throw new MeshError('MESH_ERR_STORE_CORRUPT', `${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Writes mesh.json atomically (0600: it holds the API token). */
export function writeMeshFile(stateDir: string, mesh: MeshFile): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(stateFiles.mesh(stateDir), `${JSON.stringify(mesh, null, 2)}\n`, 0o600);
}

// ---------------------------------------------------------------------------------------------
// the state directory itself

/**
 * Makes the state directory private (0700): it holds the mesh key, the cluster CA's key, the API
 * token and every pod's logs. A directory that belongs to another user is refused rather than used.
 */
export function ensurePrivateStateDir(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const st = lstatSync(stateDir);
  if (!st.isDirectory()) throw new MeshError('MESH_ERR_USAGE', `state directory ${stateDir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0 && st.uid !== uid) {
    throw new MeshError('MESH_ERR_FORBIDDEN', `state directory ${stateDir} belongs to uid ${st.uid}, not to you (uid ${uid}); use a directory of your own`);
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(stateDir, 0o700);
}

/** What a starting mesh needs free in its state directory: store, keys, logs of the first pods. */
export const MIN_FREE_BYTES = 16 * 1024 * 1024;

/**
 * Refuses to start on a (nearly) full file system with an error a person can act on, instead of a
 * daemon that dies mid-write with nothing in its log (the log cannot be written either).
 */
export function assertDiskSpace(stateDir: string, minBytes = MIN_FREE_BYTES): void {
  let free: number;
  try {
    const st = statfsSync(stateDir);
    free = Number(st.bavail) * Number(st.bsize);
  } catch {
    return; // cannot tell: the writes themselves will say
  }
  if (free < minBytes) {
    throw new MeshError('MESH_ERR_STORE_WRITE', `no space left for the mesh in ${stateDir}: ${Math.floor(free / 1024)} KiB free, at least ${minBytes / 1024 / 1024} MiB needed; free some space and run \`tessera up\` again`);
  }
}

/** A write that failed for lack of space (or quota) as the error a person can act on. */
export function diskFullError(file: string, e: unknown): MeshError | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  return new MeshError('MESH_ERR_STORE_WRITE', `cannot write ${file}: no space left on its file system (${code}); free some space and retry — nothing was changed`, { cause: e });
}

/** `writeFileAtomic` with a full disk worded as MESH_ERR_STORE_WRITE. */
function writeFileAtomic(file: string, text: string, mode: number): void {
  try {
    writeFileAtomicRaw(file, text, mode);
  } catch (e) {
    throw diskFullError(file, e) ?? e;
  }
}

/** `createFileOnce` with a full disk worded as MESH_ERR_STORE_WRITE. */
function createFileOnce(file: string, text: string, mode: number): boolean {
  try {
    return createFileOnceRaw(file, text, mode);
  } catch (e) {
    throw diskFullError(file, e) ?? e;
  }
}

// ---------------------------------------------------------------------------------------------
// mesh key

/**
 * The mesh's secret key (32 random bytes, hex), created once with mode 0600 and kept across
 * restarts so proxy tokens issued before a restart stay valid.
 */
export function readOrCreateMeshKey(stateDir: string): string {
  const file = stateFiles.secretKey(stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // Written whole or not at all: a full disk must not leave a truncated key behind.
  createFileOnce(file, `${randomBytes(32).toString('hex')}\n`, 0o600);
  const key = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(key)) {
    throw new MeshError('MESH_ERR_STORE_CORRUPT', `the mesh key ${file} is not 64 hex characters; remove it to make a new one`);
  }
  return key;
}

// ---------------------------------------------------------------------------------------------
// address block lease

export interface BlockLeaseOptions {
  /** where lease files live; tests pass their own directory */
  leaseDir?: string;
}

interface Lease {
  stateDir: string;
  pid: number;
}

const MIN_BLOCK = 1;
const MAX_BLOCK = 254;
/** A takeover lock older than this belongs to a process that died mid-takeover. */
const STALE_TAKEOVER_MS = 10_000;
/** A lease file still empty after this long was left by a process that died right after creating it. */
const STALE_EMPTY_LEASE_MS = 5_000;

/**
 * Per user: `<tmp>/tessera-blocks-<uid>`, 0700 and owned by the user. A shared directory would
 * belong to whoever ran first, who could then delete or forge everyone's leases.
 */
export function defaultLeaseDir(): string {
  const uid = process.getuid?.();
  return join(tmpdir(), uid === undefined ? 'tessera-blocks' : `tessera-blocks-${uid}`);
}

/** Creates (or checks) a lease directory: ours alone, never a symlink, never one another user made. */
function ensureLeaseDir(leaseDir: string): void {
  mkdirSync(leaseDir, { recursive: true, mode: 0o700 });
  const st = lstatSync(leaseDir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new MeshError('MESH_ERR_FORBIDDEN', `lease directory ${leaseDir} is not a directory of yours (owner uid ${st.uid}); remove it and retry`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(leaseDir, 0o700);
}

/** Remembers the chosen block inside the state directory so `down` then `up` keeps the addresses. */
function rememberedBlockFile(stateDir: string): string {
  return join(stateDir, 'mesh-block.json');
}

/**
 * Leases a /16 of 127.0.0.0/8 (127.B.0.0) for the mesh in `stateDir`. Tries the block this state
 * directory used before, then probes upwards from a hash of its absolute path. A lease is a file
 * created with O_EXCL; one held by a dead process or by this same state directory is taken over.
 */
export function leaseMeshBlock(stateDir: string, opts: BlockLeaseOptions = {}): number {
  const absDir = resolve(stateDir);
  const leaseDir = opts.leaseDir ?? defaultLeaseDir();
  ensureLeaseDir(leaseDir);
  mkdirSync(absDir, { recursive: true, mode: 0o700 });
  const remembered = readRememberedBlock(absDir);
  const start = hashBlock(absDir);
  const candidates = remembered === undefined ? [] : [remembered];
  for (let i = 0; i <= MAX_BLOCK - MIN_BLOCK; i++) candidates.push(MIN_BLOCK + ((start - MIN_BLOCK + i) % (MAX_BLOCK - MIN_BLOCK + 1)));
  for (const block of candidates) {
    if (tryLease(leaseDir, block, absDir)) {
      if (block !== remembered) {
        try {
          writeFileAtomic(rememberedBlockFile(absDir), `${JSON.stringify({ block })}\n`, 0o600);
        } catch (e) {
          rmSync(leaseFile(leaseDir, block), { force: true });
          throw e;
        }
      }
      return block;
    }
  }
  throw new MeshError('MESH_ERR_MESH_RUNNING', `every local address block 127.1-254.x.x is leased by a running mesh (see ${leaseDir})`);
}

/** Gives the block back if this state directory still holds it. The remembered block stays. */
export function releaseMeshBlock(stateDir: string, opts: BlockLeaseOptions = {}): void {
  const absDir = resolve(stateDir);
  const block = readRememberedBlock(absDir);
  if (block === undefined) return;
  const file = leaseFile(opts.leaseDir ?? defaultLeaseDir(), block);
  if (readLease(file)?.stateDir === absDir) rmSync(file, { force: true });
}

/** The block this state directory used last, if any. */
export function readRememberedBlock(stateDir: string): number | undefined {
  try {
    const { block } = JSON.parse(readFileSync(rememberedBlockFile(resolve(stateDir)), 'utf8')) as { block?: unknown };
    return typeof block === 'number' && Number.isInteger(block) && block >= MIN_BLOCK && block <= MAX_BLOCK ? block : undefined;
  } catch {
    return undefined;
  }
}

function hashBlock(absDir: string): number {
  return MIN_BLOCK + (createHash('sha256').update(absDir).digest().readUInt32BE(0) % (MAX_BLOCK - MIN_BLOCK + 1));
}

function leaseFile(leaseDir: string, block: number): string {
  return join(leaseDir, `${block}.json`);
}

/**
 * Leases are per user, so another user's mesh (or one of an older version with a shared lease
 * directory) is seen by its API address: a block whose 127.B.0.1:15080 someone listens on is taken.
 * Linux lists every listening socket of the network namespace in /proc/net/tcp, whoever owns it.
 */
export function blockInUse(block: number, procNetTcp = '/proc/net/tcp'): boolean {
  let table: string;
  try {
    table = readFileSync(procNetTcp, 'utf8');
  } catch {
    return false;
  }
  // 127.B.0.1 as /proc prints it (little-endian hex) and port API_PORT; state 0A = LISTEN
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  const local = `${hex(1)}${hex(0)}${hex(block)}${hex(127)}:${API_PORT.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((line) => {
    const cols = line.trim().split(/\s+/);
    return cols[1] === local && cols[3] === '0A';
  });
}

function tryLease(leaseDir: string, block: number, absDir: string): boolean {
  if (blockInUse(block)) return false;
  const file = leaseFile(leaseDir, block);
  if (createLease(file, absDir)) return true;
  const holder = readLease(file);
  const reclaimable = holder
    ? holder.stateDir === absDir || !processExists(holder.pid)
    : olderThan(file, STALE_EMPTY_LEASE_MS);
  if (!reclaimable) return false;
  return takeOver(file, absDir);
}

function createLease(file: string, absDir: string): boolean {
  // Whole or not at all: an empty lease left by a full disk would block the address for a while.
  return createFileOnce(file, JSON.stringify({ stateDir: absDir, pid: process.pid } satisfies Lease), 0o600);
}

/**
 * Replaces a stale lease. Two processes may both judge the same lease stale; a takeover lock
 * (mkdir is atomic) lets only one of them delete and recreate it, so the other cannot delete the
 * winner's fresh lease.
 */
function takeOver(file: string, absDir: string): boolean {
  const lock = `${file}.takeover`;
  try {
    mkdirSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (!olderThan(lock, STALE_TAKEOVER_MS)) return false;
    rmSync(lock, { recursive: true, force: true });
    return false;
  }
  try {
    const holder = readLease(file);
    const stillStale = holder ? holder.stateDir === absDir || !processExists(holder.pid) : true;
    if (!stillStale) return false;
    rmSync(file, { force: true });
    return createLease(file, absDir);
  } finally {
    try {
      rmdirSync(lock);
    } catch {
      // already removed as stale by someone else
    }
  }
}

function readLease(file: string): Lease | undefined {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as Partial<Lease>;
    return typeof o.stateDir === 'string' && typeof o.pid === 'number' ? { stateDir: o.stateDir, pid: o.pid } : undefined;
  } catch {
    return undefined;
  }
}

function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return true;
  }
}


/** Exposed for tests and the daemon: the lease file path of a block. */
export function blockLeasePath(block: number, opts: BlockLeaseOptions = {}): string {
  return leaseFile(opts.leaseDir ?? defaultLeaseDir(), block);
}

