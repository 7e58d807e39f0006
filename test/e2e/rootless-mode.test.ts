/**
 * Rootless namespace mode end to end (issue #10: "as an ordinary user, a user namespace owned by the
 * daemon"). As root the test makes a throwaway user with its home under a temp directory and a
 * /etc/subuid + /etc/subgid range of its own (appended here, removed afterwards), then, as that user
 * (`setpriv --reuid --regid --init-groups`), runs `tessera up --pod-network=namespace --detach` with
 * its own TESSERA_HOME, FSM's curl and httpbin samples, `tessera exec` curl → httpbin through both
 * sidecars, and `tessera down`. Nothing of the mesh runs as root: the daemon is the user, the sidecar
 * and apps are subordinate uids (1500 and 1000 inside the user namespace).
 *
 * The CLI is the one of the build this file belongs to (`<outDir>/src/cli/main.js`, as
 * startKubectlMesh does), so a build into another outDir tests itself. The throwaway user (and the
 * subordinate uids the sidecars run as) must read that build, its node_modules and the original-dst
 * addon; where the checkout is not readable by others the test runs from a world-readable temp
 * copy of exactly those (never changing the checkout's modes).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { deploySample } from '../support/deploy.js';
import { SAMPLES, eventually, podFile, run, type RunResult } from '../support/mesh.js';

/** `<outDir>/`: the build this compiled file is part of; its parent holds node_modules and native/. */
const BUILD = fileURLToPath(new URL('../../', import.meta.url));
const REPO = dirname(BUILD.replace(/\/$/, ''));
const ADDON = join('native', 'original-dst', 'build', 'Release', 'original_dst.node');
const SAMPLES_DIR = existsSync(SAMPLES) ? SAMPLES : '/work/shared/samples/fsm-docs';
/** the subordinate range appended for the throwaway user: room for uid 1500 and more, as useradd gives */
const SUB_COUNT = 65536;
const SIDECAR_UID = 1500;
const APP_UID = 1000;

function which(tool: string): string | undefined {
  return ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
}

const missing = ['useradd', 'userdel', 'newuidmap', 'newgidmap', 'setpriv'].filter((t) => !which(t));
const SETPRIV = which('setpriv') ?? 'setpriv';
const skip = process.getuid?.() !== 0
  ? 'rootless e2e: needs root to create a throwaway user'
  : missing.length > 0 ? `rootless e2e: missing ${missing.join(', ')} (install passwd and uidmap)` : false;

/** The uid of every process now running, by pid. */
function processUids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${e}/status`, 'utf8'));
      if (m) out.set(Number(e), Number(m[1]));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Lines of a subordinate-id file, and a free start above every range in it (and above 100000). */
function freeSubStart(): number {
  let end = 100_000;
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    for (const line of text.split('\n')) {
      const [, start, count] = line.trim().split(':');
      if (start && count) end = Math.max(end, Number(start) + Number(count));
    }
  }
  return Math.ceil(end / SUB_COUNT) * SUB_COUNT + SUB_COUNT;
}

function appendLine(file: string, line: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileSync(file, (text === '' || text.endsWith('\n') ? text : text + '\n') + line + '\n');
}

/** Removes exactly `line` (every copy of it) from `file`, keeping every other line as it is now. */
function removeLine(file: string, line: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const kept = text.split('\n').filter((l) => l !== line);
  if (kept.length !== text.split('\n').length) writeFileSync(file, kept.join('\n'));
}

/** True when every ancestor of `path` lets others through and nothing under the given roots hides from others. */
function readableByOthers(roots: string[]): boolean {
  for (let d = REPO; d !== dirname(d); d = dirname(d)) if ((statSync(d).mode & 0o001) === 0) return false;
  const r = spawnSync('find', [...roots, '(', '!', '-perm', '-o+r', '-o', '-type', 'd', '!', '-perm', '-o+x', ')', '-print', '-quit'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === '';
}

describe('rootless namespace mode: an ordinary user runs curl → httpbin through both sidecars', { skip }, () => {
  const user = `tsrl${process.pid % 100000}`;
  let uid = -1;
  let gid = -1;
  let subStart = -1;
  let subLine = '';
  let userCreated = false;
  let dir = '';
  let home = '';
  let stateDir = '';
  let cli = join(BUILD, 'src', 'cli', 'main.js');
  let env: Record<string, string> = {};
  let up: RunResult = { code: -1, stdout: '', stderr: '' };
  let upRan = false;
  let curl = { name: '', ip: '' };
  let httpbin = { name: '', ip: '' };
  let holderPid = 0;
  let cidr = '';

  /** Runs a bash script as the throwaway user, `tessera` on PATH. */
  const asUser = (script: string, timeoutMs = 120_000): Promise<RunResult> =>
    run(SETPRIV, [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', '/usr/bin/env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      '/bin/bash', '-euo', 'pipefail', '-c', script], { env: {}, cwd: home, timeoutMs });
  const tessera = (args: string, timeoutMs?: number) => asUser(`tessera ${args}`, timeoutMs);
  const daemonLog = () => (existsSync(join(stateDir, 'daemon.log')) ? readFileSync(join(stateDir, 'daemon.log'), 'utf8') : '(no daemon log)');
  /** pids of the user and of its subordinate uids: everything here was started by this test */
  const ours = () => [...processUids()].filter(([, u]) => u === uid || (u >= subStart && u < subStart + SUB_COUNT)).map(([p]) => p);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-rootless-'));
    chmodSync(dir, 0o711);
    home = join(dir, 'home');
    // -K SUB_*_COUNT=0: no automatic range; the test appends (and removes) its own lines.
    const add = spawnSync('useradd', ['-m', '-d', home, '-s', '/bin/sh', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', user], { encoding: 'utf8' });
    assert.equal(add.status, 0, `useradd ${user}: ${add.stderr}`);
    userCreated = true;
    uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
    gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
    subStart = freeSubStart();
    subLine = `${user}:${subStart}:${SUB_COUNT}`;
    appendLine('/etc/subuid', subLine);
    appendLine('/etc/subgid', subLine);

    if (!readableByOthers([BUILD, join(REPO, 'node_modules'), join(REPO, ADDON)])) {
      // The checkout is not readable by others: a world-readable copy of what the mesh runs.
      const copy = join(dir, 'build');
      cpSync(BUILD, join(copy, 'dist'), { recursive: true });
      cpSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), { recursive: true });
      mkdirSync(dirname(join(copy, ADDON)), { recursive: true });
      cpSync(join(REPO, ADDON), join(copy, ADDON));
      assert.equal(spawnSync('chmod', ['-R', 'a+rX', copy]).status, 0);
      cli = join(copy, 'dist', 'src', 'cli', 'main.js');
    }
    const bin = join(dir, 'bin');
    mkdirSync(bin, { mode: 0o755 });
    writeFileSync(join(bin, 'tessera'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`, { mode: 0o755 });
    stateDir = join(home, 'state');
    env = {
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, HOME: home, TMPDIR: join(home, 'tmp'), TESSERA_HOME: stateDir,
      KUBECONFIG: join(stateDir, 'kubeconfig'), SAMPLES: SAMPLES_DIR, LANG: 'C.UTF-8',
      // (bash on a socket stdin with no SHLVL thinks rshd ran it and reads /etc/bash.bashrc)
      SHLVL: '1',
    };
    const tmp = await asUser('mkdir -p "$TMPDIR" && id -u');
    assert.equal(tmp.stdout.trim(), String(uid), tmp.stderr);

    upRan = true;
    up = await tessera('up --mesh-name fsm --pod-network=namespace --detach', 120_000);
    assert.equal(up.code, 0, `tessera up as ${user}:\n${up.stdout}\n${up.stderr}\n${daemonLog().slice(-3000)}`);
    const network = JSON.parse(readFileSync(join(stateDir, 'sandbox', 'mesh-network.json'), 'utf8')) as { holderPid: number; cidr: string };
    holderPid = network.holderPid;
    cidr = network.cidr;
    // FSM's samples, as the seeds deploy them (tessera's kubectl verbs: the user has no kubectl of its own)
    const setup = await asUser([deploySample('curl'), deploySample('httpbin')].join('\n').replaceAll('kubectl ', 'tessera '), 60_000);
    assert.equal(setup.code, 0, `${setup.stdout}\n${setup.stderr}`);
    for (const ns of ['curl', 'httpbin']) {
      const wait = await tessera(`wait --for=condition=ready pod -n ${ns} --all --timeout=120s`, 150_000);
      assert.equal(wait.code, 0, `pods of ${ns} not ready: ${wait.stderr}\ndaemon log:\n${daemonLog().slice(-3000)}`);
    }
    const podOf = async (ns: string, app: string) => {
      const r = await tessera(`get pod -n ${ns} -l app=${app} -o jsonpath='{.items[0].metadata.name} {.items[0].status.podIP}'`);
      assert.equal(r.code, 0, r.stderr);
      const [name, ip] = r.stdout.trim().split(' ');
      return { name: name!, ip: ip! };
    };
    curl = await podOf('curl', 'curl');
    httpbin = await podOf('httpbin', 'httpbin');
  });

  after(async () => {
    const problems: string[] = [];
    const step = async (what: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        problems.push(`${what}: ${(e as Error).message}`);
      }
    };
    if (upRan) await step('tessera down', () => tessera('down', 60_000));
    // Whatever the user (or its subordinate uids) still runs was started by this test: by pid.
    await step('leftover processes', async () => {
      const left = ours();
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      if (left.length > 0) await eventually(async () => ours().length === 0, 10_000, 'the test user\'s processes to exit');
    });
    if (subLine) {
      await step('/etc/subuid', () => removeLine('/etc/subuid', subLine));
      await step('/etc/subgid', () => removeLine('/etc/subgid', subLine));
    }
    if (userCreated) {
      await step('userdel', () => {
        const r = spawnSync('userdel', [user], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(r.stderr);
      });
    }
    if (dir) await step('temp dir', () => rmSync(dir, { recursive: true, force: true }));
    assert.deepEqual(problems, [], 'cleanup');
  });

  test('up runs in namespace mode, rootless, not the loopback fallback', (t) => {
    const said = up.stdout + up.stderr;
    t.diagnostic(`CLI run by ${user}: ${cli}`);
    t.diagnostic(`up said: ${said.split('\n').find((l) => l.includes('pod network')) ?? '(no pod network line)'}`);
    assert.match(said, /pod network: namespace mode/, said);
    assert.doesNotMatch(said, /loopback mode/, 'no loopback fallback');
    // The sandbox's mode as `up` names it where it does, and as the daemon log `up` points to says.
    const named = /namespace mode \((root|rootless)\)/.exec(said)?.[1];
    if (named !== undefined) assert.equal(named, 'rootless', said);
    assert.match(daemonLog(), /pod network: namespace mode \(rootless\), pods in 10\.\d+\.\d+\.\d+\/\d+/);
    const mesh = JSON.parse(readFileSync(join(stateDir, 'mesh.json'), 'utf8')) as { podNetwork?: string };
    assert.equal(mesh.podNetwork, 'namespace');
    const network = JSON.parse(readFileSync(join(stateDir, 'sandbox', 'mesh-network.json'), 'utf8')) as { mode: string; uidCount: number };
    assert.equal(network.mode, 'rootless');
    assert.ok(network.uidCount > SIDECAR_UID, `uids mapped: ${network.uidCount}`);
  });

  test('the state directory is 0700 and the user\'s; the daemon is the user, sidecars and apps subordinate uids', () => {
    const st = statSync(stateDir);
    assert.equal(st.mode & 0o777, 0o700, `mode ${(st.mode & 0o777).toString(8)}`);
    assert.equal(st.uid, uid);
    const uids = processUids();
    assert.equal(uids.get(holderPid), uid, 'the namespace holder runs as the user');
    const pidOf = (pod: string, container: string) => Number(readFileSync(podFile(stateDir, pod, `${container}.pid`), 'utf8').trim());
    // uid N > 0 inside the user namespace is subordinate uid start + N - 1 outside (0 is the user)
    assert.equal(uids.get(pidOf(httpbin.name, 'sidecar')), subStart + SIDECAR_UID - 1, 'the sidecar runs as uid 1500 of the namespace');
    assert.equal(uids.get(pidOf(httpbin.name, 'httpbin')), subStart + APP_UID - 1, 'the app runs as uid 1000 of the namespace');
    const daemon = Number(/daemon pid (\d+)/.exec(up.stdout + up.stderr)?.[1]);
    assert.equal(uids.get(daemon), uid, `the daemon (pid ${daemon}) runs as the user`);
  });

  test('pods got IPs in the mesh\'s private network', () => {
    const [base, bits] = cidr.split('/') as [string, string];
    const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const mask = 2 ** (32 - Number(bits));
    for (const p of [curl, httpbin]) {
      assert.match(p.ip, /^10\.2(2[4-9]|[3-5]\d)\./, `${p.name}: ${p.ip}`);
      assert.equal(Math.floor(toInt(p.ip) / mask), Math.floor(toInt(base) / mask), `${p.ip} in ${cidr}`);
    }
    const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
    assert.ok(!routes.includes(base.split('.').slice(0, 3).join('.') + '.'), `the host has no route to the pods: ${routes}`);
  });

  test('tessera exec curl → http://httpbin.httpbin:14001/get is 200 through both sidecars with mTLS', async () => {
    const r = await eventually(async () => {
      const x = await tessera(`exec ${curl.name} -n curl -- curl -s -m 10 -w '\\n%{http_code}' http://httpbin.httpbin:14001/get`);
      return x.stdout.trim().endsWith('200') ? x : undefined;
    }, 60_000, 'curl → httpbin 200');
    assert.match(r.stdout, /"Host": "httpbin\.httpbin:14001"/);
    // the server sidecar's access log names the client's identity (from its certificate) and pod IP
    const log = await eventually(async () => {
      const text = readFileSync(podFile(stateDir, httpbin.name, 'sidecar.log'), 'utf8');
      return text.includes('/get') ? text : undefined;
    }, 10_000, 'access log line');
    const line = log.split('\n').reverse().find((l) => l.includes('/get') && l.includes('inbound'));
    assert.ok(line, log.slice(-2000));
    assert.match(line, /curl\.curl/, 'the client identity (sa.ns) from its certificate');
    assert.ok(line.includes(curl.ip), `the source is the curl pod's IP: ${line}`);
  });

  test('tessera exec runs inside the pod: no proxy variables, its pod IP, uid 1000', async () => {
    const r = await tessera(`exec ${curl.name} -n curl -- sh -c 'env | grep -i _proxy || echo NOPROXY; ip -o -4 addr show eth0; id -u'`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NOPROXY$/m);
    assert.ok(r.stdout.includes(`inet ${curl.ip}/`), r.stdout);
    assert.match(r.stdout, /^1000$/m);
  });

  test('tessera down removes everything: no process of the user or its subordinate uids is left', async () => {
    assert.ok(ours().length > 0, 'the mesh runs before down');
    const down = await tessera('down', 60_000);
    assert.equal(down.code, 0, down.stderr);
    const gone = await eventually(async () => ours().length === 0, 15_000, 'every process of the mesh to exit').catch(() => false);
    const cmdline = (p: number) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return '(exited)';
      }
    };
    assert.ok(gone, `left after down: ${ours().map((p) => `${p} ${cmdline(p)}`).join('; ')}`);
    assert.ok(!existsSync(`/proc/${holderPid}`), 'the namespace holder is gone');
    upRan = false;
  });
});
