/**
 * CPU cost per request of the UpstreamTrafficSetting modules themselves, without sockets: the
 * inbound throttles (service-wide + per-route limit that never refuse) and the outbound circuit
 * breaker (connection limits + error-ratio breaker that never trips), each called with a `next` that
 * answers 200, against the same `next` called directly (what a request pays with no setting: the
 * factories return null, the module is not in the chain). CPU time of this process, so a busy
 * machine changes the figures less than it changes wrk's.
 *
 * Run: `npm run build && node dist/bench/traffic-modules.js` (BENCH_ROUNDS, default 5, of 1e6 calls).
 */
import type { Resource } from '../src/api/types.js';
import type { HttpContext, HttpModule } from '../src/sidecar/chain/types.js';
import { outboundCircuitBreaker } from '../src/sidecar/modules/circuit-breaker.js';
import type { ModuleEnv } from '../src/sidecar/modules/env.js';
import { inboundThrottleRoute, inboundThrottleService } from '../src/sidecar/modules/throttle.js';
import { SidecarLog } from '../src/sidecar/observability/log.js';
import { SidecarMetrics } from '../src/sidecar/observability/metrics.js';
import { addresses, compileFor, NS, worldResources, type PodAddr } from '../src/sidecar/test-support/world.js';

const CALLS = 1_000_000;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const plenty = { requests: 4294967295, unit: 'second' };
const setting: Resource = {
  apiVersion: 'policy.flomesh.io/v1alpha1',
  kind: 'UpstreamTrafficSetting',
  metadata: { name: 'echo', namespace: NS },
  spec: {
    host: 'echo',
    connectionSettings: { tcp: { maxConnections: 100000 }, http: { circuitBreaking: { statTimeWindow: '1m', minRequestAmount: 100, degradedTimeWindow: '1s', errorRatioThreshold: 0.99 } } },
    rateLimit: { local: { http: plenty } },
    httpRoutes: [{ path: '/get', rateLimit: { local: plenty } }],
  },
};

async function envFor(p: PodAddr): Promise<ModuleEnv> {
  const { snapshot } = await compileFor([...worldResources(addresses(249)), setting], p);
  return { snapshot, metrics: new SidecarMetrics({}), log: new SidecarLog('error') } as unknown as ModuleEnv;
}

function ctxFor(direction: 'inbound' | 'outbound', port: number, cluster: string): HttpContext {
  return {
    direction,
    local: { address: '127.0.0.1', port },
    request: { method: 'GET', path: '/get?x=1', authority: 'echo.demo', headers: {} },
    service: { name: 'echo.demo', namespace: NS, port: 80, RouteRules: [] },
    cluster: { name: cluster, endpoints: [], egress: false },
    response: { status: 200, headers: {}, body: undefined },
    denial: undefined,
  } as unknown as HttpContext;
}

async function cpuNsPerCall(chain: (ctx: HttpContext) => Promise<void> | void, ctx: HttpContext): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) await chain(ctx);
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / CALLS;
}

async function main(): Promise<void> {
  const a = addresses(249);
  const server = await envFor(a.echoA);
  const client = await envFor(a.client);
  const next = async (): Promise<void> => {};
  const wrap = (...modules: HttpModule[]) => (ctx: HttpContext) => {
    const run = (i: number): Promise<void> => (i < modules.length ? Promise.resolve(modules[i]!(ctx, () => run(i + 1))) : next());
    return run(0);
  };
  const inbound = wrap(inboundThrottleService(server)!, inboundThrottleRoute(server)!);
  const outbound = wrap(outboundCircuitBreaker(client)!);
  const none = wrap();
  const inCtx = ctxFor('inbound', 8080, 'x');
  const outCtx = ctxFor('outbound', 80, 'demo/echo|80');
  const rows: Record<string, number[]> = { 'no setting (next only)': [], 'inbound throttles (service + route)': [], 'outbound circuit breaker (limits + breaker)': [] };
  for (let r = 0; r < ROUNDS; r++) {
    rows['no setting (next only)']!.push(await cpuNsPerCall(none, inCtx));
    rows['inbound throttles (service + route)']!.push(await cpuNsPerCall(inbound, inCtx));
    rows['outbound circuit breaker (limits + breaker)']!.push(await cpuNsPerCall(outbound, outCtx));
  }
  if (inCtx.denial || outCtx.denial) throw new Error('a permissive setting refused a request');
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  let out = `| modules on the path (${ROUNDS} rounds of ${CALLS} calls) | CPU ns/request, median | min–max |\n|---|---:|---:|\n`;
  for (const [name, xs] of Object.entries(rows)) out += `| ${name} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |\n`;
  process.stdout.write(out);
}

await main();
