/**
 * Lifecycle: `tessera down` then `tessera up` brings back resources, pods and traffic; killing the
 * control plane does not stop traffic, and sidecars converge when it returns; `tessera status`
 * shows which version each proxy runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deployDemo, waitReady } from '../support/deploy.js';
import { eventually, startMesh, type TestMesh } from '../support/mesh.js';

describe('mesh lifecycle', () => {
  let mesh: TestMesh;
  const curlPod = async (): Promise<string> => (await mesh.sh(`tessera get pod -n curl -l app=curl -o jsonpath='{.items..metadata.name}'`)).stdout.trim();
  const status = async (path = '/get'): Promise<string> =>
    (await mesh.tessera(['exec', await curlPod(), '-n', 'curl', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://httpbin.httpbin:14001${path}`])).stdout;

  before(async () => {
    mesh = await startMesh('fsm');
    await deployDemo(mesh);
  });
  after(async () => {
    await mesh?.stop();
  });

  test('status shows the control plane and the version each proxy applied', async () => {
    assert.equal(await status(), '200');
    const r = await eventually(async () => {
      const s = await mesh.tessera(['status']);
      return s.code === 0 && /curl/.test(s.stdout) && /httpbin/.test(s.stdout) ? s : undefined;
    }, 20_000, 'status listing both proxies');
    assert.match(r.stdout, /[0-9a-f]{12}/);
  });

  test('killing the control plane: traffic keeps flowing, and sidecars converge when it returns', async () => {
    const systemPods = join(mesh.stateDir, 'pods', 'fsm-system');
    const pod = readdirSync(systemPods).find((p) => p.startsWith('fsm-controller-'));
    assert.ok(pod, 'controller pod directory');
    const pidFile = readdirSync(join(systemPods, pod)).find((f) => f.endsWith('.pid'));
    assert.ok(pidFile, 'controller pid file');
    const pid = Number(readFileSync(join(systemPods, pod, pidFile), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    // while it is down (or restarting), traffic still flows on the sidecars' last snapshot
    assert.equal(await status(), '200');
    // a change made now reaches the sidecars once the control plane is back
    const r = await mesh.sh(`
      tessera patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}' --type=merge
      tessera apply -f examples/iam/04-plugins.yaml
    `);
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => {
      const dump = await mesh.sh(`tessera proxy get config_dump -n curl ${await curlPod()} | jq -c '.Chains."outbound-http"'`);
      return dump.stdout.includes('plugins/token-injector.js');
    }, 30_000, 'the curl sidecar to get the plugin chain');
    assert.equal(await status(), '200');
  });

  test('down then up: resources, pods and traffic come back', async () => {
    const before = (await mesh.sh(`tessera get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}' | sort`)).stdout;
    const down = await mesh.tessera(['down'], { timeoutMs: 60_000 });
    assert.equal(down.code, 0, down.stderr);
    const noMesh = await mesh.tessera(['get', 'pods', '-A']);
    assert.notEqual(noMesh.code, 0);
    assert.match(noMesh.stderr, /tessera up/);
    const up = await mesh.tessera(['up', '--mesh-name', 'fsm', '--detach'], { timeoutMs: 90_000 });
    assert.equal(up.code, 0, up.stderr);
    const r = await mesh.sh(`
${waitReady([['curl', 'curl'], ['httpbin', 'httpbin']])}
      tessera get plugin token-injector -o name
    `, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /plugin.plugin.flomesh.io\/token-injector/);
    const after = (await mesh.sh(`tessera get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}' | sort`)).stdout;
    assert.equal(after, before);
    // (pods Ready means each sidecar has a snapshot; a loaded machine may still be starting the rest)
    let last = '';
    await eventually(async () => (last = await status()) === '200', 60_000, 'traffic after up').catch((e: Error) => {
      throw new Error(`${e.message}: the last answer was ${JSON.stringify(last)}`);
    });
  });
});
