/**
 * The watchdog and the async failure policy in real child processes: a loop that never returns,
 * inside a plugin's scope and outside any, ends the process with SIDECAR_EXIT_UNRESPONSIVE and
 * the finding on stdout (log) and stderr (termination message); asynchronous throws and rejections
 * fail the scope they belong to, or are only logged, and the process lives on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { SIDECAR_EXIT_UNRESPONSIVE } from '../../local/layout.js';
import { WATCHDOG_WORKER_ENV } from './index.js';

const INDEX = new URL('./index.js', import.meta.url).href;
const LOG = new URL('../observability/log.js', import.meta.url).href;
const METRICS = new URL('../observability/metrics.js', import.meta.url).href;

function runScript(source: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not end within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Both watching threads: the native addon's (what a built sidecar runs) and the worker it falls
 * back to where the addon is not built. Each script first prints which one started.
 */
for (const kind of ['native', 'worker'] as const) {
  describe(`sidecar watchdog (${kind} thread)`, () => {
    const env = kind === 'worker' ? { [WATCHDOG_WORKER_ENV]: '1' } : {};
    const started = (stdout: string): string => (JSON.parse(stdout.split('\n')[0]!) as { kind: string }).kind;
    it('ends a process stuck in a plugin, naming the plugin and the request without its query', async () => {
      const r = await runScript(`
        import { startWatchdog, inPluginScope, pluginScope } from ${JSON.stringify(INDEX)};
        console.log(JSON.stringify({ kind: startWatchdog({ thresholdMs: 800 }).kind }));
        setTimeout(() => {
          inPluginScope(pluginScope('looper', { method: 'GET', path: '/hang?token=secret' }), async () => {
            await null;
            for (;;) {}
          });
        }, 100);
      `, env);
      assert.equal(started(r.stdout), kind);
      assert.equal(r.code, SIDECAR_EXIT_UNRESPONSIVE, r.stderr);
      assert.match(r.stderr.trim().split('\n').at(-1)!, /^sidecar: watchdog: event loop blocked for \d+ ms in plugin looper \(request GET \/hang\)$/);
      const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      assert.equal(line['level'], 'error');
      assert.equal(line['plugin'], 'looper');
      assert.equal(line['request'], 'GET /hang');
      assert.match(String(line['msg']), /^sidecar unresponsive: event loop blocked/);
      assert.doesNotMatch(r.stdout + r.stderr, /secret/);
    });

    it('ends a process blocked outside any plugin too', async () => {
      const r = await runScript(`
        import { startWatchdog } from ${JSON.stringify(INDEX)};
        console.log(JSON.stringify({ kind: startWatchdog({ thresholdMs: 800 }).kind }));
        setTimeout(() => { for (;;) {} }, 100);
      `, env);
      assert.equal(started(r.stdout), kind);
      assert.equal(r.code, SIDECAR_EXIT_UNRESPONSIVE, r.stderr);
      assert.match(r.stderr.trim().split('\n').at(-1)!, /^sidecar: watchdog: event loop blocked for \d+ ms$/);
    });

    it('leaves a busy but turning event loop alone, and lets the process end on its own', async () => {
      const r = await runScript(`
        import { startWatchdog } from ${JSON.stringify(INDEX)};
        console.log(JSON.stringify({ kind: startWatchdog({ thresholdMs: 800 }).kind }));
        let n = 0;
        const spin = () => { const end = Date.now() + 200; while (Date.now() < end) {} if (++n < 10) setImmediate(spin); else console.log('done'); };
        spin();
      `, env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(started(r.stdout), kind);
      assert.equal(r.stdout.trim().split('\n').at(-1), 'done');
    });

    it('a main thread stuck outside JavaScript (a synchronous child process) is killed with what the watchdog knows', async () => {
      const r = await runScript(`
        import { spawnSync } from 'node:child_process';
        import { startWatchdog } from ${JSON.stringify(INDEX)};
        console.log(JSON.stringify({ kind: startWatchdog({ thresholdMs: 800 }).kind }));
        setTimeout(() => { spawnSync('sleep', ['4']); console.log('woke up'); }, 100);
      `, env);
      assert.equal(started(r.stdout), kind);
      assert.equal(r.signal, 'SIGKILL', r.stderr);
      assert.match(r.stderr.trim().split('\n').at(-1)!, /^sidecar: watchdog: event loop blocked for \d+ ms \(the main thread did not take the interrupt: stuck outside JavaScript\)$/);
      assert.match(String((JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { msg: string }).msg), /^sidecar unresponsive: event loop blocked .*exiting for a restart$/);
      assert.doesNotMatch(r.stdout, /woke up/);
    });
  });
}

describe('asynchronous failures', () => {
  it('fail the plugin scope they belong to, are logged and counted, and never end the process', async () => {
    const r = await runScript(`
      import { EventEmitter } from 'node:events';
      import { containAsyncFailures, inPluginScope, pluginScope, settleInScope } from ${JSON.stringify(INDEX)};
      import { SidecarLog } from ${JSON.stringify(LOG)};
      import { SidecarMetrics } from ${JSON.stringify(METRICS)};
      const metrics = new SidecarMetrics({ pod: 'p', namespace: 'n' });
      containAsyncFailures(new SidecarLog('info'), metrics);
      const outcome = (name, start) => {
        const scope = pluginScope(name, { method: 'GET', path: '/' + name });
        return settleInScope(scope, inPluginScope(scope, start)).then(() => name + ': settled', (e) => name + ': failed: ' + e.message);
      };
      const results = await Promise.all([
        outcome('timer', () => { setTimeout(() => { throw new Error('from a timer'); }, 5); return new Promise(() => {}); }),
        outcome('rejection', () => { Promise.reject(new Error('never awaited')); return new Promise(() => {}); }),
        outcome('event', () => { setTimeout(() => new EventEmitter().emit('error', new Error('no listener')), 5); return new Promise(() => {}); }),
      ]);
      const text = await metrics.text();
      console.log(JSON.stringify({ results, series: text.split('\\n').filter((l) => l.startsWith('tessera_sidecar_unhandled_errors_total')) }));
    `);
    assert.equal(r.code, 0, r.stderr);
    // the sidecar log's lines may come after the script's own (they are flushed asynchronously)
    const line = r.stdout.trim().split('\n').find((l) => l.startsWith('{"results"'));
    assert.ok(line, r.stdout);
    const out = JSON.parse(line) as { results: string[]; series: string[] };
    assert.deepEqual(out.results, ['timer: failed: from a timer', 'rejection: failed: never awaited', 'event: failed: no listener']);
    assert.deepEqual(out.series.sort(), [
      'tessera_sidecar_unhandled_errors_total{pod="p",namespace="n",kind="exception",plugin="event"} 1',
      'tessera_sidecar_unhandled_errors_total{pod="p",namespace="n",kind="exception",plugin="timer"} 1',
      'tessera_sidecar_unhandled_errors_total{pod="p",namespace="n",kind="rejection",plugin="rejection"} 1',
    ]);
    assert.match(r.stdout, /"msg":"plugin failed asynchronously; its request fails".*"plugin":"timer"/);
  });

  it('one with no plugin to blame is the sidecar\'s own: logged, then the process exits for a clean restart', async () => {
    const r = await runScript(`
      import { containAsyncFailures } from ${JSON.stringify(INDEX)};
      import { SidecarLog } from ${JSON.stringify(LOG)};
      import { SidecarMetrics } from ${JSON.stringify(METRICS)};
      containAsyncFailures(new SidecarLog('info'), new SidecarMetrics({ pod: 'p', namespace: 'n' }));
      setTimeout(() => { throw new Error('nobody to blame'); }, 5);
      setTimeout(() => console.log('still running'), 500);
    `);
    assert.equal(r.code, 70, r.stderr);
    assert.match(r.stdout, /"msg":"unhandled error outside any plugin; exiting for a restart".*nobody to blame/);
    assert.doesNotMatch(r.stdout, /still running/);
  });
});
