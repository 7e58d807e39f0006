/**
 * Rootless: an ordinary user gets the same sandboxes inside a user namespace it owns. As root the
 * test creates a throwaway user (useradd gives it a /etc/subuid range, so pods can use more than
 * one uid) and runs rootless-main.js as that user; as an ordinary user it runs it directly.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { sandboxSupport } from './network.js';
import { ensureAddon, output } from './test-support.js';

const SCENARIO = fileURLToPath(new URL('./rootless-main.js', import.meta.url));
const support = await sandboxSupport();
const asRoot = support.root;
const skip = !asRoot && !support.rootless ? 'not root and no user namespaces here' : false;

interface Landing {
  port?: number;
  remote?: string;
  original?: { address: string; port: number; family: number } | null;
}

test('rootless: an ordinary user runs pods with interception in its own user namespace', { skip }, async (t) => {
  ensureAddon();
  const dir = await mkdtemp(join(tmpdir(), 'tessera-rootless-'));
  const user = `tsbx${process.pid % 100000}`;
  let created = false;
  t.after(async () => {
    if (created) spawnSync('userdel', [user]);
    await rm(dir, { recursive: true, force: true });
  });
  let argv = [process.execPath, SCENARIO, join(dir, 'run')];
  if (asRoot) {
    const add = spawnSync('useradd', ['-M', '-s', '/usr/sbin/nologin', user], { encoding: 'utf8' });
    if (add.status !== 0) return t.skip(`cannot create a test user: ${add.stderr.trim()}`);
    created = true;
    const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim();
    spawnSync('chown', [`${id('-u')}:${id('-g')}`, dir]);
    await chmod(dir, 0o700);
    argv = ['setpriv', `--reuid=${id('-u')}`, `--regid=${id('-g')}`, '--clear-groups', ...argv];
  }
  const r = await output(spawn(argv[0]!, argv.slice(1), { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir } }));
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim()) as Record<string, unknown> & {
    ips: { a: string; b: string };
    direct: Landing;
    outbound?: Landing;
    inbound?: Landing;
    sidecarOut?: Landing;
    fromNode?: Landing;
  };
  assert.equal(report['error'], undefined, String(report['error']));
  assert.notEqual(report['uid'], 0, 'the scenario ran as an ordinary user');
  assert.equal(report['mode'], 'rootless');
  assert.equal(report.direct.port, 9000, 'pod to pod over the bridge');
  assert.equal(report.direct.remote?.replace('::ffff:', ''), report.ips.a);
  assert.equal(report['resolved'], report.ips.b, 'httpbin.httpbin from the per-pod /etc/hosts');
  if (!report.outbound) {
    // Without newuidmap and a subordinate range only one uid exists: no uid to exclude the sidecar by.
    t.diagnostic(`uid exclusion not tested: ${String(report['uidCount'])} uid mapped (install uidmap; /etc/subuid)`);
    return;
  }
  assert.equal(report.outbound.port, 15001);
  assert.deepEqual(report.outbound.original, { address: report.ips.b, port: 9999, family: 4 });
  assert.equal(report.inbound?.port, 15003);
  assert.deepEqual(report.inbound?.original, { address: report.ips.a, port: 8080, family: 4 });
  assert.equal(report.sidecarOut?.port, 9000);
  assert.equal(report.fromNode?.port, 15003);
});

test('rootless with one uid (nobody: no /etc/subuid range): network and DNS work, uids beyond 0 are refused', { skip: asRoot ? false : 'needs root to become nobody' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-rootless-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  spawnSync('chown', ['65534:65534', dir]);
  const argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, SCENARIO, join(dir, 'run')];
  const r = await output(spawn(argv[0]!, argv.slice(1), { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir } }));
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim()) as { uidCount: number; ips: { a: string; b: string }; direct: Landing; resolved: string; error?: string; outbound?: unknown; refused?: string };
  assert.equal(report.error, undefined, report.error);
  assert.equal(report.uidCount, 1);
  assert.equal(report.direct.port, 9000);
  assert.equal(report.resolved, report.ips.b);
  assert.equal(report.outbound, undefined);
  assert.equal(report.refused, 'MESH_ERR_FORBIDDEN');
});
