/** Brings up the whole test mesh: control plane, apps, and the client and server sidecars. */
import type { Resource } from '../../api/types.js';
import { startEchoApp, startTcpEchoApp, type EchoApp } from './apps.js';
import { FakeControlPlane } from './control-plane.js';
import { createRootCa } from '../../identity/index.js';
import { allocateBlock, Tracker } from './net.js';
import {
  MESH,
  addresses,
  compileFor,
  startSidecar,
  tempDir,
  worldResources,
  type Addresses,
  type PodAddr,
  type RunningSidecar,
  type WorldOptions,
} from './world.js';

export interface Mesh {
  tracker: Tracker;
  a: Addresses;
  cp: FakeControlPlane;
  apps: { echoA: EchoApp; echoB: EchoApp; ext: EchoApp };
  resources: Resource[];
  client: RunningSidecar;
  echoA: RunningSidecar;
  echoB: RunningSidecar;
  /** compiles `resources` and publishes every sidecar's snapshot; resolves once all three acknowledged */
  publish(resources: Resource[]): Promise<Record<'client' | 'echoA' | 'echoB', string>>;
  close(): Promise<void>;
}

export async function startMesh(opts: WorldOptions = {}): Promise<Mesh> {
  const tracker = new Tracker();
  try {
    const lease = await allocateBlock();
    tracker.onClose(lease.release);
    const a = addresses(lease.block);
    const cp = new FakeControlPlane(a.controlPlane);
    if (opts.mtls) {
      const ca = await createRootCa({ meshName: MESH, keyAlgorithm: 'ECDSA-P256' });
      cp.issueCertificates(ca, Object.fromEntries([a.client, a.echoA, a.echoB].map((p) => [p.uuid, `${p.serviceAccount}.${p.namespace}`])));
    }
    await cp.start();
    tracker.onClose(() => cp.stop());
    const apps = {
      echoA: await startEchoApp(tracker, 'echo-a', a.echoA.localIP, 8080),
      echoB: await startEchoApp(tracker, 'echo-b', a.echoB.localIP, 8080),
      ext: await startEchoApp(tracker, 'ext-0', a.ext.podIP, 7000),
    };
    await startEchoApp(tracker, 'fresh-a', a.echoA.localIP, 8081);
    await startTcpEchoApp(tracker, 'tcp-echo-a', a.echoA.localIP, 9000);
    await startTcpEchoApp(tracker, 'tcp-echo-b', a.echoB.localIP, 9000);

    const publishFor = async (resources: Resource[], pods: Record<string, PodAddr>): Promise<Record<string, string>> => {
      const versions: Record<string, string> = {};
      for (const [key, p] of Object.entries(pods)) {
        const v = await compileFor(resources, p);
        cp.publish(p.uuid, v.version, v.snapshot);
        versions[key] = v.version;
      }
      return versions;
    };
    const pods = { client: a.client, echoA: a.echoA, echoB: a.echoB };
    const resources = worldResources(a, opts);
    const first = await publishFor(resources, pods);
    const running: Record<string, RunningSidecar> = {};
    for (const [key, p] of Object.entries(pods)) running[key] = await startSidecar(tracker, cp, p, await tempDir(tracker, p.name), { ownServiceAccount: opts.mtls === true });
    for (const [key, p] of Object.entries(pods)) {
      const ack = await cp.waitAck(p.uuid, first[key]!);
      if (!ack.ok) throw new Error(`${p.name} rejected its first snapshot: ${ack.error}`);
    }
    const mesh: Mesh = {
      tracker,
      a,
      cp,
      apps,
      resources,
      client: running['client']!,
      echoA: running['echoA']!,
      echoB: running['echoB']!,
      async publish(next) {
        const versions = await publishFor(next, pods);
        for (const [key, p] of Object.entries(pods)) await cp.waitAck(p.uuid, versions[key]!);
        return versions as Record<'client' | 'echoA' | 'echoB', string>;
      },
      close: () => tracker.closeAll(),
    };
    return mesh;
  } catch (err) {
    await tracker.closeAll().catch(() => undefined);
    throw err;
  }
}
