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
      `kubectl create namespace curl && kubectl create namespace httpbin && kubectl create namespace legacy
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

  test('a meshed pod reaches a TCP Service outside the mesh by name and cluster IP; another address only with egress on', async () => {
    // a TCP echo server in namespace `legacy`, which is not added to the mesh (no sidecar)
    const echo = `exec ${process.execPath} -e "require('net').createServer((s) => s.pipe(s)).listen(9300, '0.0.0.0')"`;
    const manifest = [
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: echo\nspec:\n  selector:\n    app: echo\n  ports:\n  - name: tcp\n    port: 9300\n    targetPort: 9300',
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: echo\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: echo\n  template:\n    metadata:\n      labels:\n        app: echo\n      annotations:\n        local.tessera.dev/command: ${JSON.stringify(echo)}\n    spec:\n      containers:\n      - name: echo\n        image: example/tcp-echo\n        ports:\n        - containerPort: 9300`,
    ].join('\n---\n');
    const deploy = await mesh!.tessera(['apply', '-n', 'legacy', '-f', '-'], { input: manifest });
    assert.equal(deploy.code, 0, deploy.stderr);
    const echoPod = (await readyPods(mesh!, 'legacy', ['echo']))['echo']!;
    // one line through the connection from inside the curl pod: what came back, or why not
    const ping = async (host: string): Promise<string> => {
      const client = `const s = require('net').connect(9300, '${host}', () => s.write('ping\\n'));
        s.setTimeout(5000, () => { console.log('timeout'); process.exit(0); });
        s.on('data', (d) => { console.log('echo:' + d.toString().trim()); process.exit(0); });
        s.on('error', (e) => { console.log('error:' + e.code); process.exit(0); });
        s.on('close', () => { console.log('closed'); process.exit(0); });`;
      const r = await mesh!.tessera(['exec', pods['curl']!.name, '-n', 'curl', '--', process.execPath, '-e', client]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    assert.equal(await eventually(async () => ((await ping('echo.legacy')) === 'echo:ping' ? 'echo:ping' : undefined), 30_000, 'echo by name'), 'echo:ping');
    const clusterIP = (await mesh!.sh(`kubectl get svc echo -n legacy -o jsonpath='{.spec.clusterIP}'`)).stdout.trim();
    assert.equal(await ping(clusterIP), 'echo:ping', 'by the cluster IP the name resolves to');
    assert.equal(await ping(echoPod.ip), 'echo:ping', 'egress is on by default: the pod IP passes through');
    // the connections went through curl's sidecar (intercepted), to the Service's endpoint or the address itself
    // (a relayed connection's line is written when it ends)
    const curlLog = (): string => readFileSync(podFile(mesh!.stateDir, pods['curl']!.name, 'sidecar.log'), 'utf8');
    await eventually(async () => /"protocol":"tcp","direction":"outbound".*"destination":"echo\.legacy\.svc\.cluster\.local\|9300"/.test(curlLog()), 10_000, 'the Service connection in the access log');
    await eventually(async () => curlLog().includes(`"destination":"egress|${echoPod.ip}:9300"`), 10_000, `the pod IP's egress line in:\n${curlLog().slice(-3000)}`);

    const off = await mesh!.sh(`kubectl patch meshconfig fsm-mesh-config -n fsm-system --type=merge -p '{"spec":{"traffic":{"enableEgress":false}}}'`);
    assert.equal(off.code, 0, off.stderr);
    const answer = await eventually(async () => { const a = await ping(echoPod.ip); return a !== 'echo:ping' ? a : undefined; }, 30_000, 'the pod IP refused with egress off');
    assert.match(answer, /^(closed|error:ECONNRESET)$/, 'the sidecar closes the connection');
    assert.equal(await ping('echo.legacy'), 'echo:ping', 'the Service is still reached by name');
    assert.equal(await ping(clusterIP), 'echo:ping', 'and by its cluster IP');
    // curl's sidecar refused it, and says why in its access log (at any log level)
    await eventually(async () => curlLog().split('\n').some((l) => l.includes(`"target":"${echoPod.ip}:9300"`) && l.includes('"upstream":null') && l.includes('"refused":"egress is off')), 10_000,
      `the refusal's access line in:\n${curlLog().slice(-2000)}`);
  });

  test('a pod\'s configMap, emptyDir and projected volumes (downward API, a ServiceAccount token with its audience) at their mountPath', async () => {
    const manifest = `apiVersion: v1
kind: ConfigMap
metadata: { name: app-config, namespace: legacy }
data: { app.yaml: "mode: demo" }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: volumes, namespace: legacy }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: volumes, namespace: legacy }
spec:
  replicas: 1
  selector: { matchLabels: { app: volumes } }
  template:
    metadata: { labels: { app: volumes } }
    spec:
      serviceAccountName: volumes
      containers:
      - name: volumes
        image: curlimages/curl
        command: ["sleep", "365d"]
        volumeMounts:
        - { name: config, mountPath: /etc/app, readOnly: true }
        - { name: scratch, mountPath: /scratch }
        - { name: bundle, mountPath: /var/run/bundle, readOnly: true }
      volumes:
      - { name: config, configMap: { name: app-config } }
      - { name: scratch, emptyDir: {} }
      - name: bundle
        projected:
          sources:
          - downwardAPI: { items: [{ path: pod, fieldRef: { fieldPath: metadata.name } }] }
          - serviceAccountToken: { audience: vault, expirationSeconds: 3600, path: token }
`;
    const applied = await mesh!.tessera(['apply', '-f', '-'], { input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    const pod = (await readyPods(mesh!, 'legacy', ['volumes']))['volumes']!;
    const r = await mesh!.tessera(['exec', pod.name, '-n', 'legacy', '--', 'sh', '-c',
      'cat /etc/app/app.yaml; echo; echo hi > /scratch/x && cat /scratch/x; cat /var/run/bundle/pod; echo; cut -d. -f2 /var/run/bundle/token; touch /etc/app/y 2>/dev/null || echo read-only']);
    assert.equal(r.code, 0, r.stderr);
    const [config, scratch, podName, payload, readOnly] = r.stdout.trim().split('\n');
    assert.equal(config, 'mode: demo');
    assert.equal(scratch, 'hi', 'the emptyDir is writable by the app');
    assert.equal(podName, pod.name);
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { aud: string[]; sub: string; 'kubernetes.io'?: { pod?: { name: string } } };
    assert.deepEqual(claims.aud, ['vault']);
    assert.equal(claims.sub, 'system:serviceaccount:legacy:volumes');
    assert.equal(claims['kubernetes.io']?.pod?.name, pod.name, 'bound to the pod');
    assert.equal(readOnly, 'read-only');
  });

  test('down removes the mesh network', async () => {
    const holder = JSON.parse(readFileSync(join(mesh!.stateDir, 'sandbox', 'mesh-network.json'), 'utf8')) as { holderPid: number };
    const down = await mesh!.tessera(['down']);
    assert.equal(down.code, 0, down.stderr);
    await eventually(async () => !spawnSync('test', ['-e', `/proc/${holder.holderPid}`]).status ? undefined : true, 10_000, 'holder gone');
  });
});

void SAMPLES;
