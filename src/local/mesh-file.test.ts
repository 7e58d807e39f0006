/** Tests of mesh.json, the mesh key and the address block lease. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  blockLeasePath, leaseMeshBlock, readMeshFile, readOrCreateMeshKey, readRememberedBlock, releaseMeshBlock, writeMeshFile,
} from './mesh-file.js';

function tempDir(t: { after(fn: () => void): void }, prefix = 'tessera-meshfile-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A pid that is certainly dead: a child that already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

test('mesh.json round-trips and is private', (t) => {
  const dir = tempDir(t);
  assert.equal(readMeshFile(dir), undefined);
  const mesh = { meshName: 'm', block: 7, apiUrl: 'http://127.7.0.1:15080', apiToken: 't', pid: 1, workdir: '/w', startedAt: 'now' };
  writeMeshFile(dir, mesh);
  assert.deepEqual(readMeshFile(dir), mesh);
  assert.equal(statSync(join(dir, 'mesh.json')).mode & 0o777, 0o600);
});

test('the mesh key is 32 random bytes in hex, mode 0600, stable across calls', (t) => {
  const dir = tempDir(t);
  const key = readOrCreateMeshKey(dir);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(readOrCreateMeshKey(dir), key);
  assert.equal(statSync(join(dir, 'mesh.key')).mode & 0o777, 0o600);
});

test('two state directories never share a block; the same directory keeps its block', (t) => {
  const leaseDir = tempDir(t, 'tessera-leases-');
  const a = tempDir(t);
  const b = tempDir(t);
  const blockA = leaseMeshBlock(a, { leaseDir });
  const blockB = leaseMeshBlock(b, { leaseDir });
  assert.notEqual(blockA, blockB);
  assert.ok(blockA >= 1 && blockA <= 254);
  assert.equal(leaseMeshBlock(a, { leaseDir }), blockA, 'our own lease is taken over');
  assert.equal(readRememberedBlock(a), blockA);

  releaseMeshBlock(a, { leaseDir });
  assert.throws(() => readFileSync(blockLeasePath(blockA, { leaseDir })));
  assert.equal(leaseMeshBlock(a, { leaseDir }), blockA, 'down then up keeps the addresses');
  releaseMeshBlock(a, { leaseDir });
  releaseMeshBlock(b, { leaseDir });
});

test('a lease held by a live process of another state directory is skipped; a dead one is taken over', (t) => {
  const leaseDir = tempDir(t, 'tessera-leases-');
  const a = tempDir(t);
  const b = tempDir(t);
  const blockA = leaseMeshBlock(a, { leaseDir });
  releaseMeshBlock(a, { leaseDir });
  // Someone else (alive: our parent process) now holds A's remembered block.
  writeFileSync(blockLeasePath(blockA, { leaseDir }), JSON.stringify({ stateDir: b, pid: process.ppid }));
  const moved = leaseMeshBlock(a, { leaseDir });
  assert.notEqual(moved, blockA);
  releaseMeshBlock(a, { leaseDir });
  // The holder died: the block is free again for whoever probes it.
  writeFileSync(blockLeasePath(moved, { leaseDir }), JSON.stringify({ stateDir: b, pid: deadPid() }));
  assert.equal(leaseMeshBlock(a, { leaseDir }), moved);
  const lease = JSON.parse(readFileSync(blockLeasePath(moved, { leaseDir }), 'utf8')) as { pid: number };
  assert.equal(lease.pid, process.pid);
});

test('many state directories get distinct blocks', (t) => {
  const leaseDir = tempDir(t, 'tessera-leases-');
  const blocks = new Set<number>();
  for (let i = 0; i < 20; i++) blocks.add(leaseMeshBlock(tempDir(t), { leaseDir }));
  assert.equal(blocks.size, 20);
});

test('a block whose API address someone listens on is skipped, whoever holds it', async (t) => {
  const { blockInUse } = await import('./mesh-file.js');
  const dir = tempDir(t);
  const proc = join(dir, 'tcp');
  // 127.180.0.1:15080 LISTEN (0A), and 127.181.0.1:15080 only connected (01)
  writeFileSync(proc, [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100B47F:3AE8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1',
    '   1: 0100B57F:3AE8 0100007F:1234 01 00000000:00000000 00:00000000 00000000  1000        0 2',
  ].join('\n'));
  assert.equal(blockInUse(180, proc), true);
  assert.equal(blockInUse(181, proc), false);
  assert.equal(blockInUse(182, join(dir, 'missing')), false);
});

test('the lease directory is per user and private; the state directory is made 0700', async (t) => {
  const { defaultLeaseDir, ensurePrivateStateDir } = await import('./mesh-file.js');
  const uid = process.getuid?.();
  if (uid !== undefined) assert.match(defaultLeaseDir(), new RegExp(`tessera-blocks-${uid}$`));
  const leaseDir = join(tempDir(t, 'tessera-leases-'), 'blocks');
  leaseMeshBlock(tempDir(t), { leaseDir });
  assert.equal(statSync(leaseDir).mode & 0o777, 0o700);
  const state = join(tempDir(t), 'state');
  ensurePrivateStateDir(state);
  assert.equal(statSync(state).mode & 0o777, 0o700);
  const { chmodSync } = await import('node:fs');
  chmodSync(state, 0o755);
  ensurePrivateStateDir(state);
  assert.equal(statSync(state).mode & 0o777, 0o700, 'an existing open state directory is closed');
});
