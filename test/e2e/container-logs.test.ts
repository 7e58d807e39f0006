/**
 * Container logs under small limits (issue #19): `tessera up --container-log-max-size 64Ki
 * --container-log-max-files 2`, a pod that writes a bounded burst then a slower run of lines. The
 * files rotate and stay within the bound, `logs --tail 3` is the last three lines exactly, `logs -f`
 * follows across rotations without losing or repeating a line, `--previous` shows the run before a
 * restart, and the real kubectl reads the same through the embedded API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';
import { kubectl, kubectlBinaries } from '../support/kubectl.js';

const MAX_SIZE = 64 * 1024;
const MAX_FILES = 2;
const BURST = 2000;
const SLOW = 1000;
const pad = (n: number) => 'x'.repeat(n);
const burstLine = (i: number) => `burst ${String(i).padStart(5, '0')} ${pad(100)}`;
const slowLine = (i: number) => `slow ${String(i).padStart(5, '0')} ${pad(300)}`;

// The pod waits for `logs -f` to be under way (the test creates GO, in the host's /tmp, which a
// sandboxed pod sees too, once the follower printed the first line); then a burst (about 300 KB on
// disk: several rotations at once); then lines 10 ms apart (about 350 KB: rotations while
// following); then it idles.
const GO_DIR = mkdtempSync(join(tmpdir(), 'tessera-e2e-logs-go-'));
const GO = join(GO_DIR, 'go');
const SCRIPT = [
  'echo waiting',
  `while [ ! -e ${GO} ]; do sleep 0.2; done`,
  `i=0; while [ $i -lt ${BURST} ]; do i=$((i+1)); printf 'burst %05d %s\\n' $i ${pad(100)}; done`,
  `j=0; while [ $j -lt ${SLOW} ]; do j=$((j+1)); printf 'slow %05d %s\\n' $j ${pad(300)}; sleep 0.01; done`,
  'exec sleep 3600',
].join('\n');

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: writer
  namespace: logs
spec:
  replicas: 1
  selector:
    matchLabels: { app: writer }
  template:
    metadata:
      labels: { app: writer }
      annotations:
        local.tessera.dev/command: ${JSON.stringify(SCRIPT)}
    spec:
      containers:
      - name: writer
        image: busybox
`;

describe('container logs: rotation, tail, follow, previous', () => {
  let mesh: TestMesh;
  let followed = '';
  let follower: ReturnType<typeof spawn> | undefined;
  let pod = '';
  let seqAtStart = -1;
  const newestRotation = (): number => Math.max(0, ...readdirSync(podDir()).filter((f) => f.startsWith('writer.log.')).map((f) => Number(f.split('.').pop())));
  const podDir = () => join(mesh.stateDir, 'pods', 'logs', pod);
  const logs = async (...args: string[]) => {
    const r = await mesh.tessera(['logs', pod, '-n', 'logs', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    chmodSync(GO_DIR, 0o755); // a sandboxed pod runs as another uid
    mesh = await startMesh('logs', ['--container-log-max-size', '64Ki', '--container-log-max-files', String(MAX_FILES)]);
    const r = await mesh.sh(`tessera create namespace logs && tessera apply -f - <<'EOF'\n${DEPLOYMENT}EOF`);
    assert.equal(r.code, 0, r.stderr);
    pod = await eventually(async () => {
      const p = await podOf(mesh, 'logs', 'writer');
      return p.name && (await mesh.tessera(['get', 'pod', p.name, '-n', 'logs', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running' ? p.name : undefined;
    }, 60_000, 'the writer pod running');
    // `logs -f` from the first line on, through the CLI as a user runs it
    follower = spawn(process.execPath, [CLI, 'logs', '-f', pod, '-n', 'logs'], { env: { ...process.env, TESSERA_HOME: mesh.stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    follower.stdout!.on('data', (d: Buffer) => {
      // the newest rotation when the first lines arrived: later ones happened while following
      if (followed === '') {
        seqAtStart = newestRotation();
        writeFileSync(GO, '');
      }
      followed += d.toString();
    });
  });
  after(async () => {
    if (follower?.pid !== undefined && follower.exitCode === null) process.kill(follower.pid, 'SIGTERM');
    await mesh?.stop();
    rmSync(GO_DIR, { recursive: true, force: true });
  });

  test('the files rotate and stay within max-size × max-files; tail is exactly the last lines', async () => {
    await eventually(async () => (await logs('--tail', '1')) === `${slowLine(SLOW)}\n`, 90_000, 'the last slow line');
    const files = readdirSync(podDir()).filter((f) => f === 'writer.log' || f.startsWith('writer.log.'));
    assert.ok(files.length <= MAX_FILES, `files: ${files.join(' ')}`);
    assert.ok(files.some((f) => Number(f.split('.').pop()) >= 4), `rotated several times: ${files.join(' ')}`);
    let total = 0;
    for (const f of files) {
      const size = statSync(join(podDir(), f)).size;
      assert.ok(size <= MAX_SIZE, `${f}: ${size} bytes`);
      total += size;
    }
    assert.ok(total <= MAX_SIZE * MAX_FILES, `total ${total}`);
    // the kubelet's CRI format on disk
    assert.match(readFileSync(join(podDir(), 'writer.log'), 'utf8').split('\n').at(-2)!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F slow 01000 x+$/);
    assert.equal(await logs('--tail', '3'), [SLOW - 2, SLOW - 1, SLOW].map((i) => `${slowLine(i)}\n`).join(''));
    assert.equal(await logs('--tail', '1', '--limit-bytes', '10'), slowLine(SLOW).slice(0, 10));
    assert.match(await logs('--tail', '1', '--timestamps'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z slow 01000 x+\n$/);
    assert.equal(await logs('--since', '1h', '--tail', '1'), `${slowLine(SLOW)}\n`);
    assert.equal(await logs('--since-time', new Date(Date.now() + 60_000).toISOString()), '');
  });

  test('logs -f followed every rotation without losing or repeating a line', async () => {
    await eventually(async () => followed.includes(slowLine(SLOW)), 20_000, 'logs -f to print the last slow line');
    // up to the last slow line (a follow goes on: the restart later prints the next run)
    const upTo = followed.slice(0, followed.indexOf(slowLine(SLOW)) + slowLine(SLOW).length + 1);
    const lines = upTo.split('\n');
    assert.equal(lines.pop(), '', 'whole lines');
    // from wherever it started, an unbroken run up to the last slow line
    const expected = ['waiting', ...Array.from({ length: BURST }, (_, k) => burstLine(k + 1)), ...Array.from({ length: SLOW }, (_, k) => slowLine(k + 1))];
    const start = expected.indexOf(lines[0]!);
    assert.ok(start >= 0, `the first followed line is one the pod wrote: ${lines[0]?.slice(0, 40)}`);
    const want = expected.slice(start);
    const at = lines.findIndex((l, i) => l !== want[i]);
    assert.deepEqual({ count: lines.length, firstDifference: at < 0 ? undefined : { at, got: lines[at]?.slice(0, 40), expected: want[at]?.slice(0, 40) } },
      { count: want.length, firstDifference: undefined });
    // the log rotated (more than once) while it was followed
    assert.ok(newestRotation() >= seqAtStart + 2, `rotations: ${seqAtStart} when the follow began, ${newestRotation()} now`);
  });

  test('kubectl logs reads the same through the embedded API', async (t) => {
    const bin = kubectlBinaries().at(-1);
    if (!bin) return t.skip('no kubectl on this machine');
    const r = await kubectl(mesh, ['logs', pod, '-n', 'logs', '--tail=3'], { bin });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [SLOW - 2, SLOW - 1, SLOW].map((i) => `${slowLine(i)}\n`).join(''));
    const limited = await kubectl(mesh, ['logs', pod, '-n', 'logs', '--tail=1', '--limit-bytes=12'], { bin });
    assert.equal(limited.stdout, slowLine(SLOW).slice(0, 12));
    const none = await kubectl(mesh, ['logs', pod, '-n', 'logs', '--previous'], { bin });
    assert.notEqual(none.code, 0);
    assert.ok(none.stderr.includes(`previous terminated container "writer" in pod "${pod}" not found`), none.stderr);
  });

  test('--previous shows the last run of a restarted container', async (t) => {
    const pid = Number(readFileSync(join(podDir(), 'writer.pid'), 'utf8').trim());
    // the container's process group (a sandboxed one leads its own after setsid), else just the process
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
    await eventually(async () => (await mesh.tessera(['get', 'pod', pod, '-n', 'logs', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])).stdout === '1', 60_000, 'the restart');
    const last3 = [SLOW - 2, SLOW - 1, SLOW].map((i) => `${slowLine(i)}\n`).join('');
    assert.equal(await logs('--previous', '--tail', '3'), last3);
    assert.ok(!(await logs()).includes(slowLine(SLOW)), 'the current run is the new one');
    const bin = kubectlBinaries().at(-1);
    if (!bin) return t.skip('no kubectl on this machine');
    const r = await kubectl(mesh, ['logs', pod, '-n', 'logs', '--previous', '--tail=3'], { bin });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, last3);
  });
});
