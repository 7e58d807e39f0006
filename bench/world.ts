/**
 * The benchmark's mesh: the IAM walkthrough's workloads (curl client, httpbin-like upstream,
 * ext-auth) at fixed loopback addresses, compiled by the real control-plane core, served to real
 * sidecar processes by a minimal delivery endpoint.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Plugin, Resource } from '../src/api/types.js';
import { validateDocuments } from '../src/api/validation/index.js';
import { loadManifests } from '../src/manifest/index.js';
import { compilePluginScript } from '../src/plugins/index.js';
import { buildCatalog, compileProxySnapshot, snapshotVersion } from '../src/snapshot/index.js';
import { pipyBenchmarkPlugin } from '../src/pipyjs/index.js';
import {
  TrustBundle,
  createRootCa,
  parseServiceIdentity,
  signWorkloadCsr,
  type CertificateAuthority,
} from '../src/identity/index.js';
import type { VersionedSnapshot } from '../src/snapshot/types.js';

export const MESH = 'bench';

export interface BenchAddresses {
  block: number;
  clientPod: string;
  clientLocal: string;
  serverPod: string;
  serverLocal: string;
  authPod: string;
  controller: string;
}

export function addresses(block: number): BenchAddresses {
  return {
    block,
    clientPod: `127.${block}.1.1`,
    clientLocal: `127.${block}.65.1`,
    serverPod: `127.${block}.1.2`,
    serverLocal: `127.${block}.65.2`,
    authPod: `127.${block}.1.3`,
    controller: `127.${block}.0.2`,
  };
}

export const CLIENT_UUID = '11111111-1111-4111-8111-111111111111';
export const SERVER_UUID = '22222222-2222-4222-8222-222222222222';

function ns(name: string, meshed: boolean): Resource {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: meshed ? { 'flomesh.io/monitored-by': MESH } : {} },
  };
}

function pod(namespace: string, name: string, app: string, ip: string, appAddress: string, uuid?: string): Resource {
  const labels: Record<string, string> = { app };
  if (uuid) labels['fsm-proxy-uuid'] = uuid;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `${name}-uid`, labels, annotations: { 'local.tessera.dev/app-address': appAddress } },
    spec: { serviceAccountName: app, containers: [{ name: app, image: 'bench', ports: [{ containerPort: 14001 }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function service(namespace: string, name: string, port: number, portName = 'http', app = name): Resource {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app }, ports: [{ name: portName, port, targetPort: port, protocol: 'TCP' }] },
  };
}

export interface WorldOptions {
  /** `iam`: the native IAM plugins of examples/iam; `native-injector` / `pipy-injector`: the same token-injector logic as a native or a PipyJS plugin */
  plugins?: 'iam' | 'native-injector' | 'pipy-injector';
  /** mTLS between the sidecars (the mesh default); off measures the plaintext hop */
  mtls: boolean;
  /** a mesh-wide Telemetry: `off` writes no access line, `errors` runs Istio's `response.code >= 400` filter per request; absent: every line written */
  accessLog?: 'off' | 'errors';
  /**
   * an UpstreamTrafficSetting on httpbin that never refuses: a service-wide and a per-route rate limit
   * of uint32-max a second, connection limits and an error-ratio breaker no healthy run trips — the
   * cost of the modules when they run
   */
  trafficSetting?: boolean;
  /** a Retry from curl to httpbin (retryOn 5xx, 3 retries) with enableRetryPolicy on: the retrying forwarder's cost when nothing fails */
  retry?: boolean;
}

/** Resources of the world. */
export async function world(a: BenchAddresses, opts: WorldOptions): Promise<Resource[]> {
  const withPlugins = opts.plugins !== undefined;
  const resources: Resource[] = [
    ns(`${MESH}-system`, false),
    {
      apiVersion: 'config.flomesh.io/v1alpha3',
      kind: 'MeshConfig',
      metadata: { name: `${MESH}-mesh-config`, namespace: `${MESH}-system` },
      spec: { featureFlags: { enablePluginPolicy: withPlugins, enableRetryPolicy: opts.retry === true }, sidecar: { logLevel: 'error', sidecarDisabledMTLS: !opts.mtls } },
    },
    ns('curl', true),
    ns('httpbin', true),
    ns('auth', false),
    pod('curl', 'curl-0', 'curl', a.clientPod, a.clientLocal, CLIENT_UUID),
    pod('httpbin', 'httpbin-0', 'httpbin', a.serverPod, a.serverLocal, SERVER_UUID),
    pod('auth', 'ext-auth-0', 'ext-auth', a.authPod, a.authPod),
    service('httpbin', 'httpbin', 14001),
    // the same pod's h2c app (port name http2: the sidecar speaks HTTP/2 to it)
    service('httpbin', 'h2bin', 14002, 'http2', 'httpbin'),
    service('auth', 'ext-auth', 8079),
  ];
  if (opts.plugins === 'native-injector' || opts.plugins === 'pipy-injector') {
    const pair = pipyBenchmarkPlugin();
    resources.push(
      opts.plugins === 'pipy-injector' ? pair.pipy : pair.native,
      {
        apiVersion: 'plugin.flomesh.io/v1alpha1',
        kind: 'PluginChain',
        metadata: { name: 'injector-chain', namespace: 'curl' },
        spec: { chains: [{ name: 'outbound-http', plugins: [pair.name] }], selectors: { podSelector: { matchLabels: { app: 'curl' } } } },
      },
      {
        apiVersion: 'plugin.flomesh.io/v1alpha1',
        kind: 'PluginConfig',
        metadata: { name: 'injector-config', namespace: 'curl' },
        spec: { plugin: pair.name, config: pair.config, destinationRefs: [{ kind: 'Service', name: 'httpbin', namespace: 'httpbin' }] },
      },
    );
  } else if (opts.plugins === 'iam') {
    const dir = join(process.cwd(), 'examples', 'iam');
    const files = ['04-plugins.yaml', '05-verifier-config.yaml', '06-injector-config.yaml'].map((f) => join(dir, f));
    const docs = await loadManifests(files, () => Promise.reject(new Error('no stdin')));
    resources.push(...validateDocuments(docs));
  }
  if (opts.trafficSetting) {
    const plenty = { requests: 4294967295, unit: 'second' };
    resources.push({
      apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'UpstreamTrafficSetting', metadata: { name: 'httpbin', namespace: 'httpbin' },
      spec: {
        host: 'httpbin.httpbin.svc.cluster.local',
        connectionSettings: {
          tcp: { maxConnections: 100000 },
          http: { maxPendingRequests: 100000, circuitBreaking: { statTimeWindow: '1m', minRequestAmount: 100, degradedTimeWindow: '1s', errorRatioThreshold: 0.99 } },
        },
        rateLimit: { local: { http: plenty } },
        httpRoutes: [{ path: '/get', rateLimit: { local: plenty } }],
      },
    });
  }
  if (opts.retry) {
    resources.push({
      apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'Retry', metadata: { name: 'retry', namespace: 'curl' },
      spec: {
        source: { kind: 'ServiceAccount', name: 'curl', namespace: 'curl' },
        destinations: [{ kind: 'Service', name: 'httpbin', namespace: 'httpbin' }],
        retryPolicy: { retryOn: '5xx', numRetries: 3, perTryTimeout: '5s', retryBackoffBaseInterval: '25ms' },
      },
    });
  }
  if (opts.accessLog) {
    resources.push({
      apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'access-log', namespace: `${MESH}-system` },
      spec: { accessLogging: [opts.accessLog === 'off' ? { disabled: true } : { filter: { expression: 'response.code >= 400' } }] },
    });
  }
  return resources;
}

export async function snapshots(resources: Resource[]): Promise<Map<string, VersionedSnapshot>> {
  const pluginSources = new Map<string, { kind: 'native' | 'pipy'; source: string; hash: string }>();
  for (const r of resources) if (r.kind === 'Plugin') pluginSources.set(r.metadata.name, await compilePluginScript(r as Plugin));
  const catalog = buildCatalog({ meshName: MESH, resources, pluginSources });
  const out = new Map<string, VersionedSnapshot>();
  for (const [uuid, namespace, name] of [
    [CLIENT_UUID, 'curl', 'curl-0'],
    [SERVER_UUID, 'httpbin', 'httpbin-0'],
  ] as const) {
    const snapshot = compileProxySnapshot(catalog, { namespace, name });
    if (!snapshot) throw new Error(`no snapshot for ${namespace}/${name}`);
    out.set(uuid, { version: snapshotVersion(snapshot), snapshot });
  }
  return out;
}

/** A delivery endpoint with the same wire protocol as the control plane, for a fixed proxy set. */
export class BenchDelivery {
  private current = new Map<string, VersionedSnapshot>();
  private ca: CertificateAuthority | undefined;
  /** proxy uuid → identity its certificates are issued for */
  private readonly identities = new Map<string, string>([
    [CLIENT_UUID, 'curl.curl'],
    [SERVER_UUID, 'httpbin.httpbin'],
  ]);

  /** Creates the mesh CA the bench's sidecars get their certificates from (as the control plane does). */
  async startCa(): Promise<void> {
    this.ca = await createRootCa({ meshName: MESH });
  }

  private trustEvent(): string {
    const pem = this.ca!.certificatePem;
    const t = { bundle: TrustBundle.fromPem(pem).pems(), activeRoot: TrustBundle.fromPem(pem).roots[0]!.fingerprint };
    return `event: trust\ndata: ${JSON.stringify(t)}\n\n`;
  }
  private readonly streams = new Map<string, Set<(e: string) => void>>();
  readonly acks: { uuid: string; version: string; ok: boolean }[] = [];
  private server: Server | undefined;

  publish(next: Map<string, VersionedSnapshot>): void {
    this.current = next;
    for (const [uuid, v] of next) for (const push of this.streams.get(uuid) ?? []) push(event(v));
  }

  applied(uuid: string): boolean {
    const v = this.current.get(uuid)?.version;
    return this.acks.some((a) => a.uuid === uuid && a.version === v && a.ok);
  }

  listen(host: string, port: number): Promise<void> {
    this.server = createServer((req, res) => {
      const m = /^\/v1\/proxies\/([^/]+)\/(stream|ack|csr)$/.exec(req.url ?? '');
      if (!m) return void res.writeHead(404).end();
      const uuid = m[1]!;
      if (m[2] === 'csr') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const identity = parseServiceIdentity(this.identities.get(uuid) ?? 'unknown.unknown');
          void signWorkloadCsr(this.ca!, (JSON.parse(body) as { csr: string }).csr, { identity, ttlMs: 3600_000 }).then(
            (issued) => {
              const pem = this.ca!.certificatePem;
              const trust = { bundle: TrustBundle.fromPem(pem).pems(), activeRoot: TrustBundle.fromPem(pem).roots[0]!.fingerprint };
              res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ certChain: issued.chainPem, trust }));
            },
            (err: Error) => res.writeHead(400).end(JSON.stringify({ error: err.message })),
          );
        });
        return;
      }
      if (m[2] === 'ack') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const a = JSON.parse(body) as { version: string; ok: boolean };
          this.acks.push({ uuid, version: a.version, ok: a.ok });
          res.writeHead(200).end('{}');
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const push = (e: string): void => void res.write(e);
      if (this.ca) push(this.trustEvent());
      let set = this.streams.get(uuid);
      if (!set) this.streams.set(uuid, (set = new Set()));
      set.add(push);
      req.on('close', () => set!.delete(push));
      const v = this.current.get(uuid);
      if (v) push(event(v));
    });
    this.server.requestTimeout = 0;
    return new Promise((resolve) => this.server!.listen(port, host, resolve));
  }

  close(): void {
    this.server?.closeAllConnections();
    this.server?.close();
  }
}

function event(v: VersionedSnapshot): string {
  return `id: ${v.version}\nevent: snapshot\ndata: ${JSON.stringify(v)}\n\n`;
}
