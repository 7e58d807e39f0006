/**
 * Local mode: who can reach what (issue #10, items 3-5). Each test fails on the old behaviour:
 * - a process that binds the controller's address before the mesh: `up` used to report the control
 *   plane ready (and sidecars would have sent it their tokens); now `up` fails naming the squatter;
 * - the state directory used to be created 0755 with world-readable logs: a second Unix user now
 *   cannot list or read it (root only: the test creates and removes the user);
 * - a full disk under the state directory: a clear error, no temp files, and a retry that works
 *   once there is space (root only: a small tmpfs).
 * The CLI is the one of this build (next to this file), not the repository's dist.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CONTROLLER_PORT, controllerAddress, stateFiles } from '../../src/local/layout.js';
import { defaultLeaseDir, leaseMeshBlock, releaseMeshBlock } from '../../src/local/mesh-file.js';
import { ensureClusterPki, issueServingCertificate } from '../../src/local/pki/index.js';
import { run, type RunResult } from '../support/mesh.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const isRoot = process.getuid?.() === 0;

function tessera(stateDir: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], { env: { ...process.env, TESSERA_POD_NETWORK: 'loopback', TESSERA_HOME: stateDir, HOME: join(stateDir, '..') }, timeoutMs });
}

/** A fresh parent (0755, as a home directory would be) and a state directory inside it that `up` creates. */
function freshStateDir(t: { after(fn: () => unknown): void }, name: string): string {
  const parent = mkdtempSync(join(tmpdir(), `tessera-sec-${name}-`));
  chmodSync(parent, 0o755);
  const stateDir = join(parent, 'state');
  t.after(async () => {
    await tessera(stateDir, ['down'], 60_000).catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
  });
  return stateDir;
}

const mode = (p: string): number => statSync(p).mode & 0o777;

test('a process squatting the controller address makes `up` fail clearly and never receives a token', { timeout: 180_000 }, async (t) => {
  const stateDir = freshStateDir(t, 'squat');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // The block `up` will use (remembered in the state directory).
  const block = leaseMeshBlock(stateDir);
  releaseMeshBlock(stateDir);
  // The impostor: a TLS server with a certificate for the right address, from another CA.
  const otherDir = mkdtempSync(join(tmpdir(), 'tessera-sec-impostor-'));
  t.after(() => rmSync(otherDir, { recursive: true, force: true }));
  await ensureClusterPki(otherDir, 'impostor', [controllerAddress(block)]);
  const cert = await issueServingCertificate(otherDir, 'controller', [controllerAddress(block)]);
  const seen: string[] = [];
  const impostor = createHttpsServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(200).end('{"ready":true}');
  });
  await new Promise<void>((resolve, reject) => impostor.once('error', reject).listen(CONTROLLER_PORT, controllerAddress(block), resolve));
  t.after(() => (impostor.closeAllConnections(), impostor.close()));

  const started = Date.now();
  const up = await tessera(stateDir, ['up', '--mesh-name', 'squat', '--detach']);
  const out = `${up.stdout}\n${up.stderr}`;
  assert.notEqual(up.code, 0, `up must fail:\n${out}`);
  assert.match(out, new RegExp(`another process holds squat-controller's address ${controllerAddress(block).replace(/\./g, '\\.')}:${CONTROLLER_PORT}`));
  assert.match(out, /not from this mesh's cluster CA/);
  assert.ok(Date.now() - started < 60_000, 'it fails fast instead of waiting for the ready timeout');
  assert.deepEqual(seen.filter((s) => /Bearer/i.test(s)), [], 'no token reached the impostor');
});

test('the state directory, its keys and logs are private: a second Unix user cannot read them', { skip: !isRoot && 'needs root to create a user', timeout: 180_000 }, async (t) => {
  const stateDir = freshStateDir(t, 'perm');
  const up = await tessera(stateDir, ['up', '--mesh-name', 'perm', '--detach']);
  assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  assert.equal(mode(stateDir), 0o700);
  for (const f of [stateFiles.mesh(stateDir), stateFiles.secretKey(stateDir), stateFiles.daemonLog(stateDir), join(stateDir, 'pki', 'ca.key'), join(stateDir, 'pki', 'controller.key'), join(stateDir, 'pki', 'injector.key')]) {
    assert.equal(mode(f), 0o600, f);
  }
  assert.equal(mode(defaultLeaseDir()) & 0o077, 0, 'the lease directory is per user and private');
  assert.match(defaultLeaseDir(), /tessera-blocks-0$/);

  const user = `tsec${process.pid % 100000}`;
  execFileSync('useradd', ['--no-create-home', '--shell', '/bin/sh', user]);
  t.after(() => spawnSync('userdel', [user]));
  for (const cmd of [`ls ${stateDir}`, `cat ${stateFiles.mesh(stateDir)}`, `cat ${stateFiles.daemonLog(stateDir)}`, `cat ${stateDir}/pki/ca.key`]) {
    const r = spawnSync('su', ['-s', '/bin/sh', user, '-c', cmd], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, `${user} ran "${cmd}": ${r.stdout}`);
    assert.match(r.stderr, /Permission denied/, cmd);
  }
});

test('a full disk under the state directory: a clear error, nothing half-written, and a retry that works', { skip: !isRoot && 'needs root to mount a tmpfs', timeout: 240_000 }, async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'tessera-sec-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mnt]);
  if (mounted.status !== 0) return t.skip(`cannot mount a tmpfs: ${mounted.stderr.toString().trim()}`);
  t.after(() => {
    spawnSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  const stateDir = join(mnt, 'state');
  t.after(() => tessera(stateDir, ['down'], 60_000).catch(() => undefined));
  // Fill it up.
  const filler = join(mnt, 'filler');
  spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=100'], { stdio: 'ignore' });
  const full = await tessera(stateDir, ['up', '--mesh-name', 'full', '--detach']);
  assert.notEqual(full.code, 0);
  assert.match(`${full.stdout}\n${full.stderr}`, /no space left/i);
  const leftovers = (readdirSync(mnt, { recursive: true }) as string[]).filter((f) => /\.tmp-/.test(f));
  assert.deepEqual(leftovers, [], 'no temp files left behind');

  rmSync(filler);
  writeFileSync(join(mnt, 'note'), 'space again\n');
  const again = await tessera(stateDir, ['up', '--mesh-name', 'full', '--detach']);
  assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  const down = await tessera(stateDir, ['down'], 60_000);
  assert.equal(down.code, 0, down.stderr);
});
