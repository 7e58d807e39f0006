/**
 * The rootless scenario, run by rootless.test.ts as an ordinary user: a mesh in a user namespace,
 * two pods, interception in one, and a JSON report of where each connection landed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  applyInterception,
  createMeshNetwork,
  createPodSandbox,
  destroyMeshNetwork,
  destroyPodSandbox,
  interceptionRules,
  runInMesh,
  runInPod,
  serviceHostEntries,
  writePodHosts,
  type PodSandbox,
} from './index.js';
import { ENV, PROBE, landing, output, ready } from './test-support.js';
import type { ChildProcess } from 'node:child_process';

const stateDir = process.argv[2]!;
const node = process.execPath;
const report: Record<string, unknown> = { uid: process.getuid?.() };
const children: ChildProcess[] = [];
await mkdir(stateDir, { recursive: true });
const net = await createMeshNetwork({ meshName: 'rootless', stateDir: join(stateDir, 'state'), mode: 'rootless' });
const pods: PodSandbox[] = [];
try {
  report['mode'] = net.mode;
  report['uidCount'] = net.uidCount;
  const a = await createPodSandbox(net, { name: 'a', namespace: 'curl' });
  const b = await createPodSandbox(net, { name: 'b', namespace: 'httpbin' });
  pods.push(a, b);
  report['ips'] = { a: a.ip, b: b.ip, gateway: net.gateway };
  await writePodHosts(a, serviceHostEntries([{ name: 'httpbin', namespace: 'httpbin', ip: b.ip }], 'curl'));
  const serve = async (pod: PodSandbox, uid: number, ports: number[]) => {
    const c = runInPod(pod, [node, PROBE, 'serve', ...ports.map(String)], { uid, env: ENV });
    children.push(c);
    await ready(c);
  };
  const dial = (pod: PodSandbox, uid: number, host: string, port: number) =>
    landing(runInPod(pod, [node, PROBE, 'dial', host, String(port)], { uid, env: ENV }));
  const sidecar = net.uidCount > 1500 ? 1500 : 0;
  const app = net.uidCount > 1500 ? 1000 : 0;
  report['sidecarUid'] = sidecar;
  await serve(b, 0, [9000]);
  report['direct'] = await dial(a, app, b.ip, 9000);
  if (sidecar !== app) {
    await applyInterception(a, interceptionRules({ proxyUid: sidecar, ipv6: false }));
    await serve(a, sidecar, [15001, 15003]);
    await serve(a, app, [8080]);
    report['outbound'] = await dial(a, app, b.ip, 9999);
    report['inbound'] = await dial(b, 0, a.ip, 8080);
    report['sidecarOut'] = await dial(a, sidecar, b.ip, 9000);
    report['fromNode'] = await landing(runInMesh(net, [node, PROBE, 'dial', a.ip, '8080'], { env: ENV }));
  }
  if (net.uidCount <= 1000) {
    try {
      runInPod(a, ['true'], { uid: 1000, env: ENV });
      report['refused'] = 'no';
    } catch (e) {
      report['refused'] = (e as { code?: string }).code;
    }
  }
  const hosts = await output(runInPod(a, ['getent', 'hosts', 'httpbin.httpbin'], { uid: app, env: ENV }));
  report['resolved'] = hosts.stdout.trim().split(/\s+/)[0] ?? null;
} catch (e) {
  report['error'] = (e as Error).message;
} finally {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('close', r)) : undefined)));
  for (const p of pods) await destroyPodSandbox(p).catch(() => undefined);
  await destroyMeshNetwork(net);
}
process.stdout.write(JSON.stringify(report) + '\n');
