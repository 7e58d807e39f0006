/** The state directory's identity files: mesh.json, the mesh key, and the leased address block. */
import { processExists } from '../lib/process.js';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MeshError } from '../lib/errors.js';
import { stateFiles, type MeshFile } from './layout.js';

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
  mkdirSync(stateDir, { recursive: true });
  writeFileAtomic(stateFiles.mesh(stateDir), `${JSON.stringify(mesh, null, 2)}\n`, 0o600);
}

function writeFileAtomic(file: string, text: string, mode: number): void {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

// ---------------------------------------------------------------------------------------------
// mesh key

/**
 * The mesh's secret key (32 random bytes, hex), created once with mode 0600 and kept across
 * restarts so proxy tokens issued before a restart stay valid.
 */
export function readOrCreateMeshKey(stateDir: string): string {
  const file = stateFiles.secretKey(stateDir);
  mkdirSync(stateDir, { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
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

export function defaultLeaseDir(): string {
  return join(tmpdir(), 'tessera-blocks');
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
  mkdirSync(leaseDir, { recursive: true });
  mkdirSync(absDir, { recursive: true });
  const remembered = readRememberedBlock(absDir);
  const start = hashBlock(absDir);
  const candidates = remembered === undefined ? [] : [remembered];
  for (let i = 0; i <= MAX_BLOCK - MIN_BLOCK; i++) candidates.push(MIN_BLOCK + ((start - MIN_BLOCK + i) % (MAX_BLOCK - MIN_BLOCK + 1)));
  for (const block of candidates) {
    if (tryLease(leaseDir, block, absDir)) {
      if (block !== remembered) writeFileAtomic(rememberedBlockFile(absDir), `${JSON.stringify({ block })}\n`, 0o644);
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

function tryLease(leaseDir: string, block: number, absDir: string): boolean {
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
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify({ stateDir: absDir, pid: process.pid } satisfies Lease));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
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

