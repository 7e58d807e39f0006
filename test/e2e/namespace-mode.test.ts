/**
 * Namespace mode (`tessera up --pod-network=namespace`): FSM's curl and httpbin samples as pods in
 * their own network and mount namespaces, with FSM's interception rules, and `kubectl exec` /
 * `tessera exec` running inside the pod. Needs root (the rootless variant needs /etc/subuid ranges).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sandboxSupport } from '../../src/local/sandbox/index.js';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { SAMPLES, eventually, podFile, readyPods, startMesh, type TestMesh } from '../support/mesh.js';

const support = await sandboxSupport();
const usable = await decidePodNetwork('namespace').then(() => true, () => false);
const skip = usable ? false : `namespace mode is not possible here (${support.reason ?? 'uids'})`;

describe('namespace mode: curl → httpbin through both sidecars', { skip }, () => {
  let mesh: TestMesh | undefined;
  let pods: Record<string, { name: string; ip: string }> = {};
  let httpbin: { name: string; ip: string } = { name: '', ip: '' };

  before(async () => {
    mesh = await startMesh('fsm', ['--pod-network=namespace']);
    const setup = await mesh.sh(
      `kubectl create namespace curl && kubectl create namespace httpbin
       tessera namespace add curl httpbin
       kubectl apply -n curl -f "$SAMPLES/curl.yaml"
       kubectl apply -n httpbin -f "$SAMPLES/httpbin.yaml"`,
      { timeoutMs: 60_000 },
    );
    assert.equal(setup.code, 0, `${setup.stdout}\n${setup.stderr}`);
    pods = await readyPods(mesh, 'curl', ['curl']);
    httpbin = (await readyPods(mesh, 'httpbin', ['httpbin']))['httpbin']!;
  });

  after(async () => {
    await mesh?.stop();
  });

  test('mesh.json says namespace mode; pods have IPs on the mesh bridge', () => {
    const file = JSON.parse(readFileSync(join(mesh!.stateDir, 'mesh.json'), 'utf8')) as { podNetwork?: string };
    assert.equal(file.podNetwork, 'namespace');
    assert.match(pods['curl']!.ip, /^10\.2(2[4-9]|[3-5]\d)\./);
    assert.match(httpbin.ip, /^10\.2(2[4-9]|[3-5]\d)\./);
  });

  test('kubectl exec curl -- curl http://httpbin.httpbin:14001/get goes through both sidecars with mTLS', async () => {
    const r = await eventually(async () => {
      const x = await mesh!.sh(`kubectl exec -n curl ${pods['curl']!.name} -- curl -s -m 10 -w '\\n%{http_code}' http://httpbin.httpbin:14001/get`);
      return x.stdout.trim().endsWith('200') ? x : undefined;
    }, 60_000, 'curl → httpbin 200');
    assert.match(r.stdout, /"Host": "httpbin\.httpbin:14001"/);
    // the server sidecar's access log names the client's identity (mTLS) and its pod IP as source
    const log = await eventually(async () => {
      const text = readFileSync(podFile(mesh!.stateDir, httpbin.name, 'sidecar.log'), 'utf8');
      return text.includes('"/get"') || text.includes('/get') ? text : undefined;
    }, 10_000, 'access log line');
    const line = log.split('\n').reverse().find((l) => l.includes('/get') && l.includes('inbound'));
    assert.ok(line, log.slice(-2000));
    assert.match(line, /curl\.curl/, 'the client identity (sa.ns) from its certificate');
    assert.ok(line.includes(pods['curl']!.ip), `the source is the curl pod's IP: ${line}`);
  });

  test('tessera exec runs inside the pod: no proxy variables, its pod IP, /etc/hosts names the service', async () => {
    const r = await mesh!.tessera(['exec', pods['curl']!.name, '-n', 'curl', '--', 'sh', '-c',
      'env | grep -i _proxy || echo NOPROXY; ip -o -4 addr show eth0; getent hosts httpbin.httpbin.svc.cluster.local; id -u']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NOPROXY$/m);
    assert.ok(r.stdout.includes(`inet ${pods['curl']!.ip}/`), r.stdout);
    assert.match(r.stdout, /^127\.\d+\.(1(2[89]|[3-9]\d)|2\d\d)\.\d+\s+.*httpbin\.httpbin\.svc\.cluster\.local/m, 'the cluster IP');
    assert.match(r.stdout, /^1000$/m);
    const code = await mesh!.tessera(['exec', pods['curl']!.name, '-n', 'curl', '--', 'sh', '-c', 'exit 7']);
    assert.equal(code.code, 7, 'the exit code passes through');
  });

  test('a process on the host cannot reach the app (no route to the pod network)', () => {
    // (whatever the host's own routes do with a 10/8 address, httpbin never answers)
    const r = spawnSync('curl', ['-s', '-m', '3', `http://${httpbin.ip}:14001/get`], { encoding: 'utf8' });
    assert.ok(!r.stdout.includes('"url"'), r.stdout);
    const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
    assert.ok(!routes.includes(httpbin.ip.split('.').slice(0, 2).join('.') + '.'), routes);
  });

  test('down removes the mesh network', async () => {
    const holder = JSON.parse(readFileSync(join(mesh!.stateDir, 'sandbox', 'mesh-network.json'), 'utf8')) as { holderPid: number };
    const down = await mesh!.tessera(['down']);
    assert.equal(down.code, 0, down.stderr);
    await eventually(async () => !spawnSync('test', ['-e', `/proc/${holder.holderPid}`]).status ? undefined : true, 10_000, 'holder gone');
  });
});

void SAMPLES;
