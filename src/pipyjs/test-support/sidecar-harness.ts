/**
 * A small FSM-like world for the plugin acceptance tests, compiled by the real snapshot compiler:
 * a caller (curl), httpbin, ext-auth (not meshed), pipy-ok v1/v2. Requests run through the real
 * sidecar runtime (routing, plugins, load balancing, upstream pools) of one pod; "upstreams" are
 * recording HTTP servers standing where the next hop would be.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { MeshConfigSpec, Resource } from '../../api/types.js';
import { BufferBody, EMPTY_BODY } from '../../sidecar/http/body.js';
import { RequestContext } from '../../sidecar/chain/context.js';
import type { HttpResponse } from '../../sidecar/chain/types.js';
import type { HeaderMap } from '../../sidecar/http/types.js';
import { SidecarLog } from '../../sidecar/observability/log.js';
import { SidecarMetrics } from '../../sidecar/observability/metrics.js';
import { buildRuntime, loadPluginKinds, type Runtime } from '../../sidecar/runtime.js';
import { UpstreamClient } from '../../sidecar/upstream/client.js';
import { allocateBlock, Tracker, listen } from '../../sidecar/test-support/net.js';
import { compileFor } from '../../sidecar/test-support/world.js';
import { meshConfig, meshedNamespace, namespace, pluginChain, pluginConfig, pod, service } from '../../snapshot/testdata/builders.js';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: string;
}

export interface RecordingApp {
  requests: Recorded[];
  server: Server;
}

export type Answer = (r: Recorded) => { status: number; headers?: Record<string, string>; body?: string } | undefined;

/** A server that records what it receives and answers 200 `app NAME` (or what `answer` says). */
export async function recordingApp(tracker: Tracker, name: string, host: string, port: number, answer?: Answer): Promise<RecordingApp> {
  const requests: Recorded[] = [];
  const server = tracker.server(
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString() };
        requests.push(r);
        const a = answer?.(r) ?? { status: 200, headers: { 'content-type': 'text/plain', 'x-app': name }, body: `app ${name}` };
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body ?? '');
      });
    }),
  );
  await listen(server, host, port);
  return { requests, server };
}

export interface Pods {
  curl: { podIP: string; app: string };
  httpbin: { podIP: string; app: string };
  extAuth: { podIP: string };
  v1: { podIP: string; app: string };
  v2: { podIP: string; app: string };
}

export interface PluginSpec {
  name: string;
  priority: number;
  script: string;
  /** mount point and the app label of the pods it is mounted on */
  chain: 'inbound-http' | 'outbound-http';
  apps: string[];
}

export interface ConfigSpec {
  plugin: string;
  /** namespace/name of the destination Service */
  service: string;
  config: unknown;
}

export interface World {
  tracker: Tracker;
  pods: Pods;
  resources(plugins: PluginSpec[], configs: ConfigSpec[]): Resource[];
  /** the runtime of one pod's sidecar under those resources */
  runtime(pod: keyof Pods, resources: Resource[]): Promise<{ rt: Runtime; lines: { level: string; msg: string; [k: string]: unknown }[] }>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const tracker = new Tracker();
  const lease = await allocateBlock();
  tracker.onClose(lease.release);
  const x = lease.block;
  const pods: Pods = {
    curl: { podIP: `127.${x}.1.1`, app: `127.${x}.65.1` },
    httpbin: { podIP: `127.${x}.1.2`, app: `127.${x}.65.2` },
    extAuth: { podIP: `127.${x}.1.9` },
    v1: { podIP: `127.${x}.1.3`, app: `127.${x}.65.3` },
    v2: { podIP: `127.${x}.1.4`, app: `127.${x}.65.4` },
  };
  const upstream = new UpstreamClient({ timeoutMs: 5000 });
  tracker.onClose(() => upstream.close());
  const base = (): Resource[] => [
    namespace('fsm-system'),
    meshConfig({ featureFlags: { enablePluginPolicy: true }, traffic: { enableEgress: false } } as MeshConfigSpec, 'fsm'),
    meshedNamespace('curl'),
    meshedNamespace('httpbin'),
    meshedNamespace('pipy'),
    namespace('auth'),
    pod('curl', 'curl-0', { labels: { app: 'curl' }, ip: pods.curl.podIP, serviceAccount: 'curl', annotations: { 'local.tessera.dev/app-address': pods.curl.app } }),
    pod('httpbin', 'httpbin-0', { labels: { app: 'httpbin' }, ip: pods.httpbin.podIP, serviceAccount: 'httpbin', annotations: { 'local.tessera.dev/app-address': pods.httpbin.app } }),
    pod('auth', 'ext-auth-0', { labels: { app: 'ext-auth' }, ip: pods.extAuth.podIP, unmeshed: true, annotations: { 'local.tessera.dev/app-address': pods.extAuth.podIP } }),
    pod('pipy', 'pipy-ok-v1-0', { labels: { app: 'pipy-ok', version: 'v1' }, ip: pods.v1.podIP, serviceAccount: 'pipy-ok-v1', annotations: { 'local.tessera.dev/app-address': pods.v1.app } }),
    pod('pipy', 'pipy-ok-v2-0', { labels: { app: 'pipy-ok', version: 'v2' }, ip: pods.v2.podIP, serviceAccount: 'pipy-ok-v2', annotations: { 'local.tessera.dev/app-address': pods.v2.app } }),
    service('curl', 'curl', [{ name: 'http', port: 80 }], { app: 'curl' }),
    service('httpbin', 'httpbin', [{ name: 'http', port: 14001 }], { app: 'httpbin' }),
    service('auth', 'ext-auth', [{ port: 8079, targetPort: 8079 }], { app: 'ext-auth' }),
    service('pipy', 'pipy-ok', [{ name: 'pipy', port: 8080, targetPort: 8080 }], { app: 'pipy-ok' }),
    service('pipy', 'pipy-ok-v1', [{ name: 'pipy', port: 8080, targetPort: 8080 }], { app: 'pipy-ok', version: 'v1' }),
    service('pipy', 'pipy-ok-v2', [{ name: 'pipy', port: 8080, targetPort: 8080 }], { app: 'pipy-ok', version: 'v2' }),
  ];
  const names: Record<keyof Pods, { namespace: string; name: string }> = {
    curl: { namespace: 'curl', name: 'curl-0' },
    httpbin: { namespace: 'httpbin', name: 'httpbin-0' },
    extAuth: { namespace: 'auth', name: 'ext-auth-0' },
    v1: { namespace: 'pipy', name: 'pipy-ok-v1-0' },
    v2: { namespace: 'pipy', name: 'pipy-ok-v2-0' },
  };
  return {
    tracker,
    pods,
    resources(plugins, configs) {
      const out = base();
      for (const p of plugins) {
        out.push({ apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'Plugin', metadata: { name: p.name }, spec: { priority: p.priority, pipyscript: p.script } } as Resource);
        for (const ns of ['curl', 'httpbin', 'pipy']) {
          out.push(pluginChain(ns, `${p.name}-chain`, { [p.chain]: [p.name] }, { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: p.apps }] } }));
        }
      }
      for (const c of configs) {
        const [ns, name] = c.service.split('/') as [string, string];
        out.push(pluginConfig(ns, `${c.plugin}-config`, c.plugin, [{ name, namespace: ns }], c.config));
      }
      return out;
    },
    async runtime(which, resources) {
      const v = await compileFor(resources, { ...names[which] } as Parameters<typeof compileFor>[1]);
      // the recorders standing in for peer sidecars speak plain HTTP: no mTLS between "sidecars" here
      (v.snapshot.Spec as unknown as Record<string, unknown>)['SidecarDisabledMTLS'] = true;
      const log = new SidecarLog('debug');
      const lines: { level: string; msg: string }[] = [];
      log.log = (level, msg, fields) => void lines.push({ level, msg, ...fields });
      log.access = () => undefined;
      await loadPluginKinds(v.snapshot);
      const rt = buildRuntime(v.version, v.snapshot, { upstream, log, metrics: new SidecarMetrics({}) });
      return { rt, lines };
    },
    close: () => tracker.closeAll(),
  };
}

export interface Reply {
  status: number;
  headers: HeaderMap;
  body: string;
  /** the stream was aborted: the client would see the connection close with no complete reply */
  aborted: boolean;
  response: HttpResponse;
}

/** Runs one request through a runtime's outbound or inbound HTTP chain. */
export async function send(
  rt: Runtime,
  direction: 'outbound' | 'inbound',
  req: { method?: string; path?: string; authority: string; headers?: Record<string, string>; body?: string; local?: { address: string; port: number } },
): Promise<Reply> {
  const headers: HeaderMap = { host: req.authority, 'user-agent': 'curl/8.4.0', accept: '*/*' };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  if (req.body) headers['content-length'] = String(Buffer.byteLength(req.body));
  const ctx = new RequestContext(
    direction,
    direction === 'outbound' ? 'outbound-http' : 'inbound-http',
    { method: req.method ?? 'GET', path: req.path ?? '/', authority: req.authority, headers, httpVersion: '1.1', body: req.body ? new BufferBody(Buffer.from(req.body)) : EMPTY_BODY },
    { address: '127.0.0.1', port: 40000, identity: undefined },
    req.local ?? { address: '127.0.0.1', port: 15001 },
    false,
  );
  await (direction === 'outbound' ? rt.outboundHttp(ctx) : rt.inboundHttp(ctx));
  const res = ctx.response!;
  let body = '';
  let aborted = false;
  try {
    body = (await res.body.bytes()).toString();
  } catch {
    aborted = true;
  }
  return { status: res.status, headers: res.headers, body, aborted, response: res };
}

/** The value of a header as the upstream received it, with the spelling it came in. */
export function rawHeader(r: Recorded, name: string): { name: string; value: string } | undefined {
  for (let i = 0; i < r.rawHeaders.length; i += 2) if (r.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) return { name: r.rawHeaders[i]!, value: r.rawHeaders[i + 1]! };
  return undefined;
}
