/**
 * Issue #15 item 5 on a running mesh: a native plugin in the curl pod's sidecar that loops forever
 * on one path, and throws asynchronously on two others. The asynchronous throws fail only their
 * requests (500) in the same sidecar process; the loop costs one restart of the sidecar (its
 * watchdog ends it, the local runtime restarts it), counted in the pod's restarts and named by a
 * `SidecarUnresponsive` event, after which traffic flows again. (The curl pod sends through its
 * HTTP proxy, so the path a plugin sees may be in absolute form.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEMO_SERVICES } from '../support/deploy.js';
import { eventually, podFile, podOf, startMesh, type TestMesh } from '../support/mesh.js';

const PLUGIN = `kind: Plugin
apiVersion: plugin.flomesh.io/v1alpha1
metadata:
  name: looper
spec:
  priority: 115
  script: |
    export default {
      onRequest(ctx) {
        const path = ctx.request.path;
        if (path.endsWith('/plugin-active')) return ctx.respond(200, 'plugin active');
        if (path.endsWith('/async-throw')) {
          setTimeout(() => { throw new Error('thrown from a timer'); }, 10);
          return new Promise(() => {});
        }
        if (path.endsWith('/async-reject')) {
          Promise.reject(new Error('rejected, never awaited'));
          return new Promise(() => {});
        }
        if (path.endsWith('/hang')) for (;;) {}
      },
    };
---
kind: PluginChain
apiVersion: plugin.flomesh.io/v1alpha1
metadata:
  name: looper-chain
  namespace: curl
spec:
  chains:
    - name: outbound-http
      plugins:
        - looper
  selectors:
    podSelector:
      matchLabels:
        app: curl
`;

interface EventItem {
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { name?: string; kind?: string };
}

describe('a sidecar survives its plugins', () => {
  let mesh: TestMesh;
  let curlPod = '';

  before(async () => {
    mesh = await startMesh('tessera');
    const r = await mesh.sh(`
      tessera patch meshconfig tessera-mesh-config -n tessera-system -p '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}' --type=merge
${DEMO_SERVICES}
    `, { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: PLUGIN });
    assert.equal(applied.code, 0, applied.stderr);
    curlPod = (await podOf(mesh, 'curl', 'curl')).name;
    await eventually(async () => (await call('/plugin-active')).body === 'plugin active', 60_000, 'the plugin in the curl sidecar');
  });
  after(async () => {
    await mesh?.stop();
  });

  const call = async (path: string): Promise<{ code: string; body: string }> => {
    const r = await mesh.tessera(['exec', curlPod, '-n', 'curl', '-c', 'curl', '--', 'curl', '-s', '--max-time', '10', '-w', '\n%{http_code}', `http://httpbin.httpbin:14001${path}`], { timeoutMs: 30_000 });
    const nl = r.stdout.lastIndexOf('\n');
    return { body: r.stdout.slice(0, Math.max(nl, 0)), code: r.stdout.slice(nl + 1).trim() };
  };
  const sidecarPid = (): string => readFileSync(podFile(mesh.stateDir, curlPod, 'sidecar.pid'), 'utf8').trim();
  const sidecarStatus = async (): Promise<{ restartCount: number; lastState?: { terminated?: { exitCode: number; reason?: string; message?: string } } }> => {
    const r = await mesh.tessera(['get', 'pod', curlPod, '-n', 'curl', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const pod = JSON.parse(r.stdout) as { status: { containerStatuses: { name: string; restartCount: number }[] } };
    const s = pod.status.containerStatuses.find((c) => c.name === 'sidecar');
    assert.ok(s, 'the curl pod has a sidecar container status');
    return s;
  };

  test('an asynchronous throw fails only its request; the same sidecar process answers the next one', async () => {
    const pid = sidecarPid();
    const before = await sidecarStatus();
    assert.equal((await call('/async-throw')).code, '500');
    assert.equal((await call('/async-reject')).code, '500');
    assert.equal((await call('/get')).code, '200');
    assert.equal(sidecarPid(), pid, 'the sidecar was not restarted');
    assert.equal((await sidecarStatus()).restartCount, before.restartCount);
    const logs = await mesh.tessera(['logs', curlPod, '-n', 'curl', '-c', 'sidecar']);
    assert.match(logs.stdout, /plugin failed asynchronously; its request fails.*"plugin":"looper".*"kind":"exception".*thrown from a timer/);
    assert.match(logs.stdout, /plugin failed asynchronously; its request fails.*"plugin":"looper".*"kind":"rejection".*rejected, never awaited/);
  });

  test('a plugin looping forever costs one sidecar restart, named in the pod\'s events; then traffic flows', async (t) => {
    const pid = sidecarPid();
    const before = await sidecarStatus();
    const started = Date.now();
    const hung = await call('/hang');
    assert.notEqual(hung.code, '200', 'the looping request does not succeed');
    const hungFor = Date.now() - started;
    const back = await eventually(async () => (await call('/get')).code === '200', 90_000, 'traffic through the restarted sidecar');
    assert.ok(back);
    t.diagnostic(`request to /hang ended after ${hungFor} ms with ${hung.code}; traffic back after ${Date.now() - started} ms`);

    const after = await sidecarStatus();
    assert.equal(after.restartCount, before.restartCount + 1, 'one restart');
    assert.notEqual(sidecarPid(), pid, 'a new sidecar process');
    assert.equal(after.lastState?.terminated?.exitCode, 86);
    assert.equal(after.lastState?.terminated?.reason, 'SidecarUnresponsive');

    const ev = await mesh.sh('kubectl get events -n curl -o json');
    assert.equal(ev.code, 0, ev.stderr);
    const events = (JSON.parse(ev.stdout) as { items: EventItem[] }).items.filter((e) => e.involvedObject?.name === curlPod && e.reason === 'SidecarUnresponsive');
    assert.equal(events.length, 1, ev.stdout);
    assert.equal(events[0]!.type, 'Warning');
    t.diagnostic(`event: ${events[0]!.reason}: ${events[0]!.message}`);
    assert.match(events[0]!.message ?? '', /container sidecar exited with code 86: sidecar: watchdog: event loop blocked for \d+ ms in plugin looper \(request GET \S*\/hang\); restarting/);

    const previous = await mesh.tessera(['logs', curlPod, '-n', 'curl', '-c', 'sidecar', '--previous']);
    assert.match(previous.stdout, /sidecar unresponsive: event loop blocked for \d+ ms in plugin looper/);
  });
});
