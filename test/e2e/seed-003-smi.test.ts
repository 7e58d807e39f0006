/**
 * Seed 003's SMI examples on a real local mesh with permissive mode off: the seed's manifests taken
 * from the seed text (apiVersions added), small apps started through `local.tessera.dev/command`.
 * L7: the seed's table holds, everything else gets 403, deleting a TrafficTarget revokes within a
 * second. L4: TCP to 8300–8302 through CONNECT and per-upstream listeners, UDP to 8301/8302 only
 * (by pod address), denied TCP closed, and deleting the TrafficTarget closes both within a second.
 *
 * The first suite pins loopback mode: it drives each pod's explicit proxy (CONNECT, per-upstream
 * listeners, TESSERA_UPSTREAMS_FILE) and sends UDP from the host as a pod address, which only exist
 * there. The second runs the same examples in namespace mode, everything from inside the pods through
 * transparent interception: the L7 table, revocation, TCP to the service, and UDP by pod address and
 * by service name (kube-proxy's DNAT in the pod), other identities dropped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { localIPFor } from '../../src/local/layout.js';
import { seedExampleYaml } from '../../src/snapshot/testdata/smi-seed.js';
import { sleeperClient } from '../support/manifests.js';
import { REPO_ROOT, eventually, podFile, readyPods, startMesh, type TestMesh, within } from '../support/mesh.js';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { tunnel } from '../support/tcp.js';

const APP = 'node dist/test/support/smi-app.js';
const L7 = [
  { name: 'api', sa: 'api-service' },
  { name: 'website', sa: 'website-service' },
  { name: 'payments', sa: 'payments-service' },
  { name: 'prometheus', sa: 'prometheus' },
];
const L4_PORTS = [8300, 8301, 8302];

function deployment(name: string, sa: string, command: string, ports: number[]): string {
  const containerPorts = `\n        ports:${ports.map((p) => `\n        - containerPort: ${p}`).join('')}`;
  return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${sa}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
      annotations:
        local.tessera.dev/command: ${command}
    spec:
      serviceAccountName: ${sa}
      containers:
      - name: ${name}
        image: example/smi-app${containerPorts}
---`;
}

function service(name: string, ports: { name: string; port: number; protocol?: string }[]): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector:
    app: ${name}
  ports:${ports.map((p) => `\n  - name: ${p.name}\n    port: ${p.port}\n    targetPort: ${p.port}\n    protocol: ${p.protocol ?? 'TCP'}`).join('')}
---`;
}

const WORKLOADS = [
  ...L7.map((w) => `${deployment(w.name, w.sa, `${APP} http`, [8080])}\n${service(w.name, [{ name: 'http', port: 8080 }])}`),
  deployment('server', 'server', `${APP} l4 ${L4_PORTS.join(' ')}`, L4_PORTS),
  service('server', L4_PORTS.flatMap((p) => [{ name: `tcp-${p}`, port: p }, { name: `udp-${p}`, port: p, protocol: 'UDP' }])),
  `${sleeperClient('client')}---`,
  `${sleeperClient('stranger')}---`,
].join('\n');

/** One request through a pod's sidecar (its outbound proxy), straight from the test: fast enough to poll. */
function viaProxy(podIP: string, method: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: localIPFor(podIP), port: 15001, method, path: url, headers: { host: u.host }, agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A datagram from `from` to `to:port`; resolves with the reply or undefined after `ms`. */
function udpAsk(from: string, to: string, port: number, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (v: string | undefined): void => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), ms);
    s.on('message', (m) => done(m.toString()));
    s.on('error', () => done(undefined));
    s.bind({ address: from, port: 0 }, () => s.send('ping', port, to));
  });
}

describe('seed 003 SMI examples on a local mesh (permissive mode off)', () => {
  let mesh: TestMesh;
  const pods: Record<string, { name: string; ip: string }> = {};

  before(async () => {
    // loopback mode explicitly: this suite reaches the pods' explicit proxies and pod addresses from the host
    mesh = await startMesh('fsm', ['--pod-network=loopback']);
    const setup = await mesh.sh(
      `kubectl patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"traffic":{"enablePermissiveTrafficPolicyMode":false}}}' --type=merge
       tessera namespace add default`,
    );
    assert.equal(setup.code, 0, setup.stderr);
    const apply = await mesh.tessera(['apply', '-n', 'default', '-f', '-'], { input: `${WORKLOADS}\n${seedExampleYaml('L7')}\n---\n${seedExampleYaml('L4')}\n` });
    assert.equal(apply.code, 0, `${apply.stdout}\n${apply.stderr}`);
    Object.assign(pods, await readyPods(mesh, 'default', [...L7.map((w) => w.name), 'server', 'client', 'stranger']));
    // policies reach the sidecars asynchronously: wait until the first grant shows on both examples
    await eventually(async () => (await viaProxy(pods['website']!.ip, 'GET', 'http://api.default:8080/api')) === 200, 30_000, 'website → api /api');
    await eventually(async () => (await tunnel(pods['client']!.ip, 'server.default:8301')).includes('tcp 8301'), 30_000, 'client → server:8301');
  });
  after(async () => {
    await mesh?.stop();
  });

  test("L7: the seed's table holds through `kubectl exec … curl`; every other combination gets 403", async () => {
    const allowed = (src: string, dst: string, method: string, path: string): boolean =>
      dst === 'api' && ((['website', 'payments'].includes(src) && path === '/api') || (src === 'prometheus' && path === '/metrics' && method === 'GET'));
    for (const src of L7) {
      const r = await mesh.tessera([
        'exec', pods[src.name]!.name, '-n', 'default', '--', 'sh', '-c',
        `for d in api website payments prometheus; do for m in GET POST DELETE; do for p in /api /metrics /; do
           echo "$d $m $p $(curl -s -o /dev/null -w '%{http_code}' -X $m http://$d.default:8080$p)"; done; done; done`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 36);
      for (const line of lines) {
        const [dst, method, path, code] = line.split(' ') as [string, string, string, string];
        assert.equal(code, allowed(src.name, dst, method, path) ? '200' : '403', `${src.sa} → ${dst} ${method} ${path}`);
      }
    }
  });

  test('L7: deleting a TrafficTarget revokes it within a second, and only it', async () => {
    const prometheus = pods['prometheus']!.ip;
    assert.equal(await viaProxy(prometheus, 'GET', 'http://api.default:8080/metrics'), 200);
    const del = await mesh.tessera(['delete', 'traffictarget', 'api-service-metrics', '-n', 'default']);
    assert.equal(del.code, 0, del.stderr);
    const ms = await within(1000, 'prometheus losing GET /metrics', async () => (await viaProxy(prometheus, 'GET', 'http://api.default:8080/metrics')) === 403);
    assert.ok(ms <= 1000, `${ms} ms`);
    assert.equal(await viaProxy(pods['website']!.ip, 'POST', 'http://api.default:8080/api'), 200, 'the other TrafficTarget still holds');
    const r = await mesh.tessera(['exec', pods['prometheus']!.name, '-n', 'default', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://api.default:8080/metrics']);
    assert.equal(r.stdout, '403');
  });

  test('L4: TCP to 8300, 8301 and 8302 through CONNECT (`curl -p -x … telnet://`) and the announced per-upstream listeners', async () => {
    const client = pods['client']!;
    const proxy = `http://${localIPFor(client.ip)}:15001`;
    const viaConnect = await mesh.tessera([
      'exec', client.name, '-n', 'default', '--', 'sh', '-c',
      // curl's telnet ends at EOF on stdin, maybe before the greeting: keep stdin open while the server answers
      `for p in ${L4_PORTS.join(' ')}; do (sleep 2 | curl -s -m 5 -p -x ${proxy} telnet://server.default:$p) & done; wait`,
    ]);
    for (const p of L4_PORTS) assert.match(viaConnect.stdout, new RegExp(`^tcp ${p} ${pods['server']!.name}$`, 'm'), viaConnect.stdout + viaConnect.stderr);

    const file = podFile(mesh.stateDir, client.name, 'upstreams.json');
    const upstreams = await eventually(async () => {
      const u = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      return L4_PORTS.every((p) => u[`server.default:${p}`]) && u;
    }, 10_000, 'upstreams.json');
    for (const p of L4_PORTS) assert.equal(upstreams[`server.default:${p}`], `${localIPFor(client.ip)}:${p}`, 'the service port on the local address');
    // Apps find the file through TESSERA_UPSTREAMS_FILE, as in the pod's own containers.
    const announced = await mesh.tessera(['exec', client.name, '-n', 'default', '--', 'sh', '-c', 'cat "$TESSERA_UPSTREAMS_FILE"']);
    assert.deepEqual(JSON.parse(announced.stdout), JSON.parse(readFileSync(file, 'utf8')));
    const viaListener = await mesh.tessera([
      'exec', client.name, '-n', 'default', '--', 'sh', '-c',
      L4_PORTS.map((p) => `${APP} tcp-read ${upstreams[`server.default:${p}`]!.replace(':', ' ')}`).join('; '),
    ]);
    assert.equal(viaListener.code, 0, viaListener.stdout + viaListener.stderr);
    for (const p of L4_PORTS) assert.match(viaListener.stdout, new RegExp(`^tcp ${p} `, 'm'));
    // the stranger is no source: nothing announced for it, and its tunnel is closed without a byte of the app
    const strangerUpstreams = JSON.parse(readFileSync(podFile(mesh.stateDir, pods['stranger']!.name, 'upstreams.json'), 'utf8')) as Record<string, string>;
    assert.equal(strangerUpstreams['server.default:8301'], undefined);
    assert.doesNotMatch(await tunnel(pods['stranger']!.ip, 'server.default:8301'), /tcp 8301/);
  });

  test('L4: UDP by pod address through `kubectl exec`: 8301 and 8302 answer, 8300 does not; other senders are dropped', async () => {
    const { name, ip } = pods['client']!;
    const server = pods['server']!.ip;
    const r = await mesh.tessera([
      'exec', name, '-n', 'default', '--', 'sh', '-c',
      `for p in ${L4_PORTS.join(' ')}; do echo "$p $(${APP} udp-send $POD_IP ${server} $p hi)"; done; echo "local $(${APP} udp-send ${localIPFor(ip)} ${server} 8302 hi)"`,
    ]);
    assert.match(r.stdout, /^8300 no reply$/m, r.stdout);
    assert.match(r.stdout, new RegExp(`^8301 udp 8301 ${pods['server']!.name} hi$`, 'm'));
    assert.match(r.stdout, new RegExp(`^8302 udp 8302 ${pods['server']!.name} hi$`, 'm'));
    assert.match(r.stdout, /^local udp 8302 .* hi$/m, "the pod's private app address stands for its pod IP");
    assert.equal(await udpAsk(pods['stranger']!.ip, server, 8301, 1000), undefined, 'a pod with another identity');
    assert.equal(await udpAsk(`127.${server.split('.')[1]}.63.250`, server, 8301, 1000), undefined, 'an address no pod holds');
  });

  test('L4: deleting the TrafficTarget closes TCP and UDP within a second', async () => {
    const client = pods['client']!;
    const server = pods['server']!.ip;
    const first = await udpAsk(client.ip, server, 8301, 1000);
    assert.ok(first?.startsWith('udp 8301'), String(first));
    const del = await mesh.tessera(['delete', 'traffictarget', 'protocal-specific', '-n', 'default']);
    assert.equal(del.code, 0, del.stderr);
    await within(1000, 'TCP closed', async () => !(await tunnel(client.ip, 'server.default:8301')).includes('tcp 8301'));
    await within(1000, 'UDP dropped', async () => (await udpAsk(client.ip, server, 8301, 150)) === undefined);
  });
});

const namespaceMode = await decidePodNetwork('namespace').then(() => true, () => false);

describe('seed 003 SMI examples in namespace mode: transparent interception, from inside the pods', { skip: namespaceMode ? false : 'namespace mode is not possible here' }, () => {
  let mesh: TestMesh;
  const pods: Record<string, { name: string; ip: string }> = {};
  // inside a pod the command runs from /, so the test apps go by their absolute path
  const app = `node ${join(REPO_ROOT, 'dist', 'test', 'support', 'smi-app.js')}`;
  const inPod = (pod: string, script: string) => mesh.tessera(['exec', pods[pod]!.name, '-n', 'default', '--', 'sh', '-c', script], { timeoutMs: 60_000 });
  const code = async (pod: string, method: string, url: string) => (await inPod(pod, `curl -s -o /dev/null -w '%{http_code}' -X ${method} ${url}`)).stdout;
  /**
   * a loop in the pod printing `<ms since epoch> <result>` per probe until `stop` matches (at most n
   * probes); with `working`, `stop` counts only once a probe matched `working`, so a transient failure
   * before the change (a reset under CI load) does not end the loop early
   */
  const probeLoop = (probe: string, stop: string, n = 40, working?: string, readyFile?: string) =>
    `seen=${working ? '' : 1}; for i in $(seq 1 ${n}); do t=$(date +%s%3N); r=$(${probe} 2>&1 | tr '\\n' ' '); echo "$t $r"; ` +
    `${working ? `case "$r" in ${working}) seen=1;${readyFile ? ` touch ${readyFile};` : ''}; esac; ` : ''}if [ -n "$seen" ]; then case "$r" in ${stop}) break;; esac; fi; sleep 0.05; done`;
  /** ms from `since` (the delete returned, as `within` counts in the loopback suite) to the probe line from which on every line matches `changed` */
  const settledAfter = (out: string, since: number, changed: RegExp): number => {
    const lines = out.trim().split('\n').map((l) => ({ t: Number(l.slice(0, l.indexOf(' '))), r: l.slice(l.indexOf(' ') + 1) }));
    let first = lines.length;
    while (first > 0 && changed.test(lines[first - 1]!.r)) first--;
    assert.ok(first < lines.length, `never changed:\n${out}`);
    return lines[first]!.t - since;
  };

  before(async () => {
    mesh = await startMesh('fsm', ['--pod-network=namespace']);
    const setup = await mesh.sh(
      `kubectl patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"traffic":{"enablePermissiveTrafficPolicyMode":false}}}' --type=merge
       tessera namespace add default`,
    );
    assert.equal(setup.code, 0, setup.stderr);
    const apply = await mesh.tessera(['apply', '-n', 'default', '-f', '-'], { input: `${WORKLOADS}\n${seedExampleYaml('L7')}\n---\n${seedExampleYaml('L4')}\n` });
    assert.equal(apply.code, 0, `${apply.stdout}\n${apply.stderr}`);
    Object.assign(pods, await readyPods(mesh, 'default', [...L7.map((w) => w.name), 'server', 'client', 'stranger']));
    await eventually(async () => (await code('website', 'GET', 'http://api.default:8080/api')) === '200', 30_000, 'website → api /api');
    await eventually(async () => (await inPod('client', `${app} tcp-read server.default 8301`)).stdout.includes('tcp 8301'), 30_000, 'client → server:8301');
  });
  after(async () => {
    await mesh?.stop();
  });

  test('pods have mesh-bridge IPs and no proxy variables', async () => {
    for (const p of Object.values(pods)) assert.match(p.ip, /^10\.2(2[4-9]|[3-5]\d)\./);
    const r = await inPod('client', 'env | grep -ci _proxy || true');
    assert.equal(r.stdout.trim(), '0');
  });

  test("L7: the seed's table holds through `tessera exec … curl`; every other combination gets 403", async () => {
    const allowed = (src: string, dst: string, method: string, path: string): boolean =>
      dst === 'api' && ((['website', 'payments'].includes(src) && path === '/api') || (src === 'prometheus' && path === '/metrics' && method === 'GET'));
    for (const src of L7) {
      const r = await inPod(src.name,
        `for d in api website payments prometheus; do for m in GET POST DELETE; do for p in /api /metrics /; do
           echo "$d $m $p $(curl -s -o /dev/null -w '%{http_code}' -X $m http://$d.default:8080$p)"; done; done; done`);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 36);
      for (const line of lines) {
        const [dst, method, path, c] = line.split(' ') as [string, string, string, string];
        assert.equal(c, allowed(src.name, dst, method, path) ? '200' : '403', `${src.sa} → ${dst} ${method} ${path}`);
      }
    }
  });

  test('L7: deleting a TrafficTarget revokes it within a second, and only it', async () => {
    assert.equal(await code('prometheus', 'GET', 'http://api.default:8080/metrics'), '200');
    const loop = inPod('prometheus', probeLoop("curl -s -o /dev/null -w '%{http_code}' http://api.default:8080/metrics", '403*'));
    await new Promise((r) => setTimeout(r, 300));
    const del = await mesh.tessera(['delete', 'traffictarget', 'api-service-metrics', '-n', 'default']);
    const since = Date.now();
    assert.equal(del.code, 0, del.stderr);
    const ms = settledAfter((await loop).stdout, since, /^403/);
    assert.ok(ms <= 1000, `${ms} ms`);
    assert.equal(await code('website', 'POST', 'http://api.default:8080/api'), '200', 'the other TrafficTarget still holds');
  });

  test('L4: TCP to server.default:8300–8302 through interception; the stranger gets nothing of the app', async () => {
    const r = await inPod('client', L4_PORTS.map((p) => `${app} tcp-read server.default ${p}`).join('; '));
    for (const p of L4_PORTS) assert.match(r.stdout, new RegExp(`^tcp ${p} ${pods['server']!.name}$`, 'm'), r.stdout + r.stderr);
    const stranger = await inPod('stranger', `${app} tcp-read server.default 8301 || true`);
    assert.doesNotMatch(stranger.stdout, /tcp 8301/);
  });

  test('L4: UDP by pod address and by service name: 8301 and 8302 answer, 8300 does not; other identities are dropped', async () => {
    const server = pods['server']!.ip;
    const r = await inPod('client',
      `for p in ${L4_PORTS.join(' ')}; do echo "$p $(${app} udp-send $POD_IP ${server} $p hi)"; done; echo "svc $(${app} udp-send $POD_IP server.default 8302 hi)"`);
    assert.match(r.stdout, /^8300 no reply$/m, r.stdout);
    assert.match(r.stdout, new RegExp(`^8301 udp 8301 ${pods['server']!.name} hi$`, 'm'), r.stdout);
    assert.match(r.stdout, new RegExp(`^8302 udp 8302 ${pods['server']!.name} hi$`, 'm'), r.stdout);
    assert.match(r.stdout, new RegExp(`^svc udp 8302 ${pods['server']!.name} hi$`, 'm'), 'through the cluster IP (DNAT in the pod)');
    const stranger = await inPod('stranger', `${app} udp-send $POD_IP ${server} 8301 hi || true`);
    assert.match(stranger.stdout, /^no reply$/m, 'a pod with another identity');
  });

  test('L4: deleting the TrafficTarget closes TCP and UDP within a second', async () => {
    const server = pods['server']!.ip;
    // Each loop touches a file (pods share the host's file system) once its probe has worked, and
    // the TrafficTarget goes only then: on a loaded machine a probe can take over a second, and a
    // delete before the first answer would leave nothing to compare.
    const dir = mkdtempSync(join(tmpdir(), 'tessera-smi-probe-'));
    chmodSync(dir, 0o777); // the pod's processes run as its own uid
    const ready = { tcp: join(dir, 'tcp-ready'), udp: join(dir, 'udp-ready') };
    const loops = inPod('client', `(${probeLoop(`${app} tcp-read server.default 8301`, '*error*|""', 60, "'tcp 8301'*", ready.tcp)} | sed 's/^/tcp /') &
      (${probeLoop(`${app} udp-send $POD_IP ${server} 8301 hi`, "'no reply'*", 30, "'udp 8301'*", ready.udp)} | sed 's/^/udp /') & wait`);
    for (let i = 0; i < 300 && !(existsSync(ready.tcp) && existsSync(ready.udp)); i++) await new Promise((r) => setTimeout(r, 100));
    const del = await mesh.tessera(['delete', 'traffictarget', 'protocal-specific', '-n', 'default']);
    const since = Date.now();
    assert.equal(del.code, 0, del.stderr);
    const out = (await loops).stdout;
    rmSync(dir, { recursive: true, force: true });
    const of = (kind: string) => out.split('\n').filter((l) => l.startsWith(`${kind} `)).map((l) => l.slice(kind.length + 1)).join('\n');
    assert.match(of('tcp'), /tcp 8301/, 'TCP worked before');
    assert.match(of('udp'), /udp 8301/, 'UDP worked before');
    const tcpMs = settledAfter(of('tcp'), since, /^(?!tcp 8301)/);
    const udpMs = settledAfter(of('udp'), since, /^no reply/);
    assert.ok(tcpMs <= 1000, `TCP closed after ${tcpMs} ms`);
    assert.ok(udpMs <= 1000, `UDP dropped after ${udpMs} ms`);
  });
});
