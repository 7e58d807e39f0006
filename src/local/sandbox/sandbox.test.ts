/**
 * Real namespaces, real iptables, real curl: a pod with the interception rules applied and a
 * probe as its sidecar (uid 1500), an app (uid 1000) beside it, and a second pod as the peer.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  applyInterception,
  createMeshNetwork,
  createPodSandbox,
  destroyMeshNetwork,
  destroyPodSandbox,
  interceptionRules,
  runInMesh,
  runInPod,
  sandboxSupport,
  serviceHostEntries,
  writePodHosts,
  type MeshNetwork,
  type PodSandbox,
} from './index.js';
import { ENV, PROBE, ensureAddon, landing, output, ready } from './test-support.js';

const SIDECAR_UID = 1500;
const APP_UID = 1000;
const support = await sandboxSupport();
const skip = support.root ? false : 'needs root (the rootless variant is rootless.test.ts)';
const node = process.execPath;

describe('pod sandboxes as root', { skip }, () => {
  let dir = '';
  let net: MeshNetwork | undefined;
  let a: PodSandbox | undefined;
  let b: PodSandbox | undefined;
  const children: ChildProcess[] = [];
  const serve = async (pod: PodSandbox, uid: number, ports: number[]) => {
    const c = runInPod(pod, [node, PROBE, 'serve', ...ports.map(String)], { uid, env: ENV });
    children.push(c);
    await ready(c);
  };
  const dial = (pod: PodSandbox, uid: number, host: string, port: number) =>
    landing(runInPod(pod, [node, PROBE, 'dial', host, String(port)], { uid, env: ENV }));

  before(async () => {
    ensureAddon();
    dir = await mkdtemp(join(tmpdir(), 'tessera-sandbox-'));
    net = await createMeshNetwork({ meshName: `sbx-${process.pid}`, stateDir: join(dir, 'state'), mode: 'root' });
    a = await createPodSandbox(net, { name: 'curl-1', namespace: 'curl' });
    b = await createPodSandbox(net, { name: 'httpbin-1', namespace: 'httpbin' });
    await writePodHosts(a, serviceHostEntries([{ name: 'httpbin', namespace: 'httpbin', ip: b.ip }], 'curl'));
    await applyInterception(a, interceptionRules({ proxyUid: SIDECAR_UID, ipv6: false }));
    await applyInterception(a, interceptionRules({ proxyUid: SIDECAR_UID, ipv6: true }), { ipv6: true });
    await serve(a, SIDECAR_UID, [15000, 15001, 15003]); // the "sidecar"
    await serve(a, APP_UID, [8080]); // the app
    await serve(b, 0, [9000]); // the peer pod, no interception
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('close', r)) : undefined)));
    for (const p of [a, b]) if (p) await destroyPodSandbox(p).catch(() => undefined);
    if (net) await destroyMeshNetwork(net);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('pods get their IP on eth0, loopback up, a default route via the bridge', async () => {
    const r = await output(runInPod(a!, ['ip', '-o', 'addr'], { env: ENV }));
    assert.match(r.stdout, new RegExp(`eth0\\s+inet ${a!.ip.replaceAll('.', '\\.')}/20`));
    assert.match(r.stdout, /lo\s+inet 127\.0\.0\.1\/8/);
    const routes = await output(runInPod(a!, ['ip', 'route'], { env: ENV }));
    assert.match(routes.stdout, new RegExp(`default via ${net!.gateway.replaceAll('.', '\\.')} dev eth0`));
  });

  test("the app's outbound connection lands on 15001 and originalDestination is the address it dialed", async () => {
    const r = await dial(a!, APP_UID, b!.ip, 9999);
    assert.equal(r.port, 15001);
    assert.equal(r.uid, SIDECAR_UID);
    assert.deepEqual(r.original, { address: b!.ip, port: 9999, family: 4 });
  });

  test('an inbound connection from another pod to pod IP:8080 lands on 15003 with original port 8080', async () => {
    const r = await dial(b!, 0, a!.ip, 8080);
    assert.equal(r.port, 15003);
    assert.equal(r.remote?.replace('::ffff:', ''), b!.ip);
    assert.deepEqual(r.original, { address: a!.ip, port: 8080, family: 4 });
  });

  test('the admin port is not redirected inbound', async () => {
    const r = await dial(b!, 0, a!.ip, 15000);
    assert.equal(r.port, 15000);
    assert.equal(r.original, null);
  });

  test("the sidecar's own outbound connections are not redirected", async () => {
    const r = await dial(a!, SIDECAR_UID, b!.ip, 9000);
    assert.equal(r.port, 9000);
    assert.equal(r.remote?.replace('::ffff:', ''), a!.ip, 'the peer sees the pod IP as source');
  });

  test('loopback: the app reaches itself via its pod IP directly; the sidecar dialing the pod IP goes through inbound', async () => {
    const self = await dial(a!, APP_UID, a!.ip, 8080);
    assert.equal(self.port, 8080);
    assert.equal(self.uid, APP_UID);
    const viaSidecar = await dial(a!, SIDECAR_UID, a!.ip, 8080);
    assert.equal(viaSidecar.port, 15003);
    assert.deepEqual(viaSidecar.original, { address: a!.ip, port: 8080, family: 4 });
    const localhost = await dial(a!, APP_UID, '127.0.0.1', 8080);
    assert.equal(localhost.port, 8080, '127.0.0.1 is never redirected');
  });

  test('IPv6: IP6T_SO_ORIGINAL_DST reports the IPv6 address the app dialed', async () => {
    for (const [pod, addr] of [[a!, 'fd00:7e55::a'], [b!, 'fd00:7e55::b']] as const) {
      // pods are created with IPv6 off on eth0 (no link-local route around interception): this test
      // turns it on to give the pods IPv6 addresses of its own
      const on = await output(runInPod(pod, ['sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6'], { env: ENV }));
      assert.equal(on.code, 0, on.stderr);
      const r = await output(runInPod(pod, ['ip', '-6', 'addr', 'add', `${addr}/64`, 'dev', 'eth0', 'nodad'], { env: ENV }));
      assert.equal(r.code, 0, r.stderr);
    }
    const r = await dial(a!, APP_UID, 'fd00:7e55::b', 9999);
    assert.equal(r.port, 15001);
    assert.deepEqual(r.original, { address: 'fd00:7e55::b', port: 9999, family: 6 });
  });

  test('curl in the pod resolves httpbin.httpbin from the per-pod /etc/hosts and is intercepted', async () => {
    if (spawnSync('curl', ['--version']).status !== 0) return;
    const r = await output(runInPod(a!, ['curl', '-sS', '--http0.9', '-m', '5', 'http://httpbin.httpbin:14001/get'], { uid: APP_UID, env: ENV }));
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(r.stdout.trim()) as { port: number; original: unknown };
    assert.equal(seen.port, 15001);
    assert.deepEqual(seen.original, { address: b!.ip, port: 14001, family: 4 });
    const resolv = await output(runInPod(a!, ['cat', '/etc/resolv.conf'], { env: ENV }));
    assert.match(resolv.stdout, /^search curl\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
    const short = await output(runInPod(a!, ['getent', 'hosts', 'httpbin'], { env: ENV }));
    assert.notEqual(short.code, 0, '`httpbin` alone names a service only inside its own namespace');
    const inB = await output(runInPod(b!, ['getent', 'hosts', 'httpbin.httpbin.svc.cluster.local'], { env: ENV }));
    assert.notEqual(inB.code, 0, "pod b's /etc/hosts is its own");
  });

  test('from the mesh node an app port in the pod is reachable only through the sidecar; the host has no route at all', async () => {
    const r = await landing(runInMesh(net!, [node, PROBE, 'dial', a!.ip, '8080'], { env: ENV }));
    assert.equal(r.port, 15003);
    assert.deepEqual(r.original, { address: a!.ip, port: 8080, family: 4 });
    // The host's own namespace: no address, interface or route of the mesh (no traffic is sent to find out).
    const addrs = spawnSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' }).stdout;
    assert.ok(!addrs.includes(net!.gateway) && !addrs.includes(a!.ip), addrs);
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
    assert.ok(!links.includes('tbr0') && !links.includes(a!.hostVeth), links);
    const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
    assert.ok(!routes.includes(net!.cidr), routes);
  });

  test('volumes appear at mountPath (read-only when asked) without creating anything on the host', async () => {
    const certs = join(dir, 'certs');
    const token = join(dir, 'sa');
    await mkdir(certs, { mode: 0o755 });
    await mkdir(token, { mode: 0o755 });
    await chmod(dir, 0o755);
    await writeFile(join(certs, 'ca.pem'), 'CA\n', { mode: 0o644 });
    await writeFile(join(token, 'token'), 'TOKEN\n', { mode: 0o644 });
    const r = await output(
      runInPod(a!, ['sh', '-c', 'cat /certs/ca.pem /var/run/secrets/kubernetes.io/serviceaccount/token; touch /certs/x 2>/dev/null && echo WRITABLE; ls /run | head -3 >/dev/null; pwd'], {
        uid: APP_UID,
        env: ENV,
        cwd: '/tmp',
        mounts: [
          { hostPath: certs, mountPath: '/certs', readOnly: true },
          { hostPath: token, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
        ],
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'CA\nTOKEN\n/tmp\n');
    assert.equal(spawnSync('test', ['-e', '/certs']).status, 1, '/certs must not appear on the host');
    assert.equal(spawnSync('test', ['-e', '/run/secrets/kubernetes.io']).status, 1, 'nor /run/secrets/kubernetes.io');
  });
});
