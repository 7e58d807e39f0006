/**
 * A small mesh world for the sidecar tests, compiled by the real compiler, and in-process sidecars
 * running its snapshots. Block X gives every pod a pod IP 127.X.1.N (sidecar inbound and admin) and
 * a local address 127.X.65.N (its apps and the outbound proxy).
 *
 *   demo (meshed)   client-0          sa client, the caller
 *                   echo-a, echo-b    sa echo, app=echo; Services echo (80→8080, round robin over both),
 *                                     other (80→8080, echo-a only), tcpecho (port name tcp-echo, 9000)
 *                   down-0            not ready; Service down (80) has no ready endpoint
 *   ext (not meshed) ext-0           a plain app on its pod IP; Service ext (7000)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plugin, Pod, Resource } from '../../api/types.js';
import type { PluginSource } from '../../catalog/types.js';
import { compilePluginScript } from '../../plugins/index.js';
import { buildCatalog, compileProxySnapshot, snapshotVersion, type ProxySnapshot } from '../../snapshot/index.js';
import { meshConfig, meshedNamespace, namespace, pluginChain, pluginConfig, pod, service } from '../../snapshot/testdata/builders.js';
import { Sidecar } from '../sidecar.js';
import type { FakeControlPlane } from './control-plane.js';
import { until, type Tracker } from './net.js';

export const MESH = 'fsm';
export const NS = 'demo';

export interface PodAddr {
  namespace: string;
  name: string;
  serviceAccount: string;
  uuid: string;
  podIP: string;
  localIP: string;
  labels: Record<string, string>;
  ready: boolean;
  meshed: boolean;
}

export interface Addresses {
  block: number;
  controlPlane: string;
  client: PodAddr;
  echoA: PodAddr;
  echoB: PodAddr;
  down: PodAddr;
  ext: PodAddr;
}

export function addresses(block: number): Addresses {
  const mk = (n: number, namespace: string, name: string, serviceAccount: string, labels: Record<string, string>, extra: Partial<PodAddr> = {}): PodAddr => ({
    namespace,
    name,
    serviceAccount,
    uuid: randomUUID(),
    podIP: `127.${block}.1.${n}`,
    localIP: `127.${block}.65.${n}`,
    labels,
    ready: true,
    meshed: true,
    ...extra,
  });
  return {
    block,
    controlPlane: `127.${block}.0.1`,
    client: mk(1, NS, 'client-0', 'client', { app: 'client' }),
    echoA: mk(2, NS, 'echo-a', 'echo', { app: 'echo', role: 'server', member: 'a' }),
    echoB: mk(3, NS, 'echo-b', 'echo', { app: 'echo', role: 'server', member: 'b' }),
    down: mk(4, NS, 'down-0', 'down', { app: 'down' }, { ready: false }),
    ext: mk(9, 'ext', 'ext-0', 'default', { app: 'ext' }, { meshed: false }),
  };
}

function podResource(p: PodAddr): Pod {
  const r = pod(p.namespace, p.name, {
    labels: p.labels,
    ip: p.podIP,
    ready: p.ready,
    serviceAccount: p.serviceAccount,
    unmeshed: !p.meshed,
    annotations: { 'local.tessera.dev/app-address': p.meshed ? p.localIP : p.podIP },
  });
  if (p.meshed) r.metadata.labels!['fsm-proxy-uuid'] = p.uuid;
  return r;
}

/** Native plugins used by the plugin tests, by name: [priority, chain mount point, script]. */
export const PLUGIN_SCRIPTS: Record<string, { priority: number; script: string }> = {
  // adds headers both ways; the request header carries this destination's PluginConfig
  tagger: {
    priority: 115,
    script: `
      import { definePlugin } from 'tessera/plugin';
      interface Config { Tag?: string }
      export default definePlugin<Config>({
        onRequest(ctx) {
          ctx.request.headers.set('x-tagged', 'yes');
          ctx.request.headers.set('x-plugin-config', ctx.config?.Tag ?? 'none');
          ctx.request.headers.set('x-plugin-service', ctx.service?.name ?? 'none');
        },
        onResponse(ctx) {
          ctx.response?.headers.set('x-tagged-response', ctx.plugin);
        },
      });
    `,
  },
  // throws on /boom
  boomer: {
    priority: 114,
    script: `
      import { definePlugin } from 'tessera/plugin';
      export default definePlugin({
        onRequest(ctx) {
          if (ctx.request.path.startsWith('/boom')) throw new Error('kaboom from the boomer plugin');
        },
      });
    `,
  },
  // calls a service outside the mesh by its svc.ns:port name on /enrich
  enricher: {
    priority: 113,
    script: `
      import { definePlugin } from 'tessera/plugin';
      export default definePlugin({
        async onRequest(ctx) {
          if (!ctx.request.path.startsWith('/enrich')) return;
          const r = await ctx.fetch('http://ext.ext:7000/info?from=plugin');
          const body = (await r.json()) as { app: string; url: string };
          ctx.request.headers.set('x-enriched', body.app + ' ' + r.status + ' ' + body.url);
        },
      });
    `,
  },
  // on the server side: answers 401 for /private without calling the rest of the chain
  gatekeeper: {
    priority: 115,
    script: `
      import { definePlugin } from 'tessera/plugin';
      export default definePlugin({
        onRequest(ctx) {
          if (ctx.request.path.startsWith('/private')) {
            ctx.respond(401, { error: 'no token', plugin: ctx.plugin, direction: ctx.direction }, { 'www-authenticate': 'Bearer' });
          }
        },
      });
    `,
  },
};

export interface WorldOptions {
  plugins?: boolean;
  /** adds Service fresh (80→8081) on echo-a */
  fresh?: boolean;
  /** label changes of echo-b (e.g. to take it out of Service echo) */
  echoBLabels?: Record<string, string>;
  /** mesh mTLS on: the fake control plane issues workload certificates (startMesh) */
  mtls?: boolean;
}

export function worldResources(a: Addresses, opts: WorldOptions = {}): Resource[] {
  const echoB = opts.echoBLabels ? { ...a.echoB, labels: opts.echoBLabels } : a.echoB;
  const out: Resource[] = [
    namespace(`${MESH}-system`),
    meshedNamespace(NS),
    namespace('ext'),
    // these suites exercise the data path in plaintext; mTLS has its own suite (mtls.test.ts)
    meshConfig({ featureFlags: { enablePluginPolicy: opts.plugins ?? false }, sidecar: { sidecarDisabledMTLS: !opts.mtls } }, MESH),
    ...[a.client, a.echoA, echoB, a.down, a.ext].map(podResource),
    service(NS, 'echo', [{ name: 'http', port: 80, targetPort: 8080 }], { app: 'echo' }),
    service(NS, 'other', [{ name: 'http', port: 80, targetPort: 8080 }], { member: 'a' }),
    service(NS, 'tcpecho', [{ name: 'tcp-echo', port: 9000 }], { app: 'echo' }),
    service(NS, 'down', [{ name: 'http', port: 80, targetPort: 8080 }], { app: 'down' }),
    service('ext', 'ext', [{ name: 'http', port: 7000 }], { app: 'ext' }),
  ];
  if (opts.fresh) out.push(service(NS, 'fresh', [{ name: 'http', port: 80, targetPort: 8081 }], { member: 'a' }));
  if (opts.plugins) {
    for (const [name, p] of Object.entries(PLUGIN_SCRIPTS)) {
      out.push({ apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'Plugin', metadata: { name }, spec: { script: p.script, priority: p.priority } } as Plugin);
    }
    out.push(
      pluginChain(NS, 'client-chain', { 'outbound-http': ['tagger', 'boomer', 'enricher'] }, { podSelector: { matchLabels: { app: 'client' } } }),
      pluginChain(NS, 'server-chain', { 'inbound-http': ['gatekeeper'] }, { podSelector: { matchLabels: { role: 'server' } } }),
      pluginConfig(NS, 'tag-echo', 'tagger', [{ name: 'echo', namespace: NS }], { Tag: 'config-for-echo' }),
      pluginConfig(NS, 'tag-other', 'tagger', [{ name: 'other', namespace: NS }], { Tag: 'config-for-other' }),
    );
  }
  return out;
}

/** Compiles the scripts of every Plugin among `resources`, as the control plane does. */
export async function pluginSourcesFor(resources: readonly Resource[]): Promise<Map<string, PluginSource>> {
  const out = new Map<string, PluginSource>();
  for (const r of resources) if (r.kind === 'Plugin') out.set(r.metadata.name, await compilePluginScript(r as Plugin));
  return out;
}

export interface Versioned {
  version: string;
  snapshot: ProxySnapshot;
}

/** The snapshot of one pod's sidecar, compiled from the world. */
export async function compileFor(resources: Resource[], p: PodAddr): Promise<Versioned> {
  const catalog = buildCatalog({ meshName: MESH, resources, pluginSources: await pluginSourcesFor(resources) });
  const snapshot = compileProxySnapshot(catalog, { namespace: p.namespace, name: p.name });
  if (!snapshot) throw new Error(`no snapshot compiled for ${p.namespace}/${p.name}`);
  // a deep copy: compiled sections are shared and frozen; the wire form is JSON anyway
  return { version: snapshotVersion(snapshot), snapshot: JSON.parse(JSON.stringify(snapshot)) as ProxySnapshot };
}

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface RunningSidecar {
  pod: PodAddr;
  sidecar: Sidecar;
  dataDir: string;
  lines: LogLine[];
  access: Record<string, unknown>[];
  outbound: { host: string; port: number };
  admin: { host: string; port: number };
  stop(): Promise<void>;
}

export async function tempDir(tracker: Tracker, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tessera-sidecar-${prefix}-`));
  tracker.onClose(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts a sidecar for `p` against the control plane; its log is captured in memory (set
 * TESSERA_TEST_SIDECAR_LOG=1 to also see it on stderr). Stopped by the tracker at the latest.
 */
export async function startSidecar(tracker: Tracker, cp: FakeControlPlane, p: PodAddr, dataDir: string, opts: { ownServiceAccount?: boolean } = {}): Promise<RunningSidecar> {
  const sidecar = new Sidecar({
    podName: p.name,
    podNamespace: p.namespace,
    // with certificates the pod's own service account (its identity must match the snapshot's)
    serviceAccount: opts.ownServiceAccount ? p.serviceAccount : p.name.replace(/-\d+$/, ''),
    podIP: p.podIP,
    localIP: p.localIP,
    uuid: p.uuid,
    token: cp.tokenFor(p.uuid),
    controllerUrl: cp.url,
    dataDir,
    adminPort: 15000,
    outboundPort: 15001,
  });
  const lines: LogLine[] = [];
  const access: Record<string, unknown>[] = [];
  const echo = process.env['TESSERA_TEST_SIDECAR_LOG'] === '1';
  sidecar.log.log = (level, msg, fields) => {
    lines.push({ level, msg, ...fields });
    if (echo) process.stderr.write(`[${p.name}] ${level} ${msg} ${JSON.stringify(fields ?? {})}\n`);
  };
  sidecar.log.access = (line) => {
    // every access line must be one valid JSON object
    access.push(JSON.parse(line) as Record<string, unknown>);
    if (echo) process.stderr.write(`[${p.name}] access ${line}\n`);
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await sidecar.stop();
  };
  tracker.onClose(stop);
  await sidecar.start();
  return {
    pod: p,
    sidecar,
    dataDir,
    lines,
    access,
    outbound: { host: p.localIP, port: 15001 },
    admin: { host: p.podIP, port: 15000 },
    stop,
  };
}

/** Waits until the sidecar runs `version`. */
export async function waitVersion(s: RunningSidecar, version: string, timeoutMs = 5000): Promise<void> {
  await until(() => s.sidecar.current?.version === version, `${s.pod.name} to run ${version.slice(0, 12)}`, timeoutMs);
}
