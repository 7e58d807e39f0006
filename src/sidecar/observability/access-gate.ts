/**
 * Which access lines the sidecar writes, per side, under the snapshot's `AccessLog` section
 * (Istio Telemetry `accessLogging`). Refusals — a policy, a JWT, SMI, a plugin or an unknown route
 * refusing a request or connection — are always written, with their reason, whatever the rule
 * says: an operator asking "why was this denied" must find the answer even with the log turned off.
 *
 * The filter language (CEL, @marcbachmann/cel-js) loads only when a snapshot has a filter, so a
 * sidecar that logs everything, or nothing, never carries the compiler.
 */
import type { AccessAttributes, CompiledFilter } from '../../access-log/index.js';
import type { AccessLogRule, ProxySnapshot } from '../../snapshot/types.js';
import type { Direction, HttpContext, TcpContext } from '../chain/types.js';
import { MeshError } from '../../lib/errors.js';
import { splitEndpoint } from '../upstream/index.js';

const invalid = (message: string): MeshError => new MeshError('MESH_ERR_SNAPSHOT_INVALID', message);

type FilterCompiler = typeof import('../../access-log/index.js').compileFilter;
let compiler: FilterCompiler | undefined;

/** Loads the filter language when the snapshot needs it; call before `accessGate`. */
export async function loadAccessLogFilters(snapshot: ProxySnapshot): Promise<void> {
  const a = snapshot.AccessLog;
  if (compiler || !(a?.Inbound.Filter || a?.Outbound.Filter)) return;
  compiler = (await import('../../access-log/index.js')).compileFilter;
}

export interface SideGate {
  /** true: every line is written (no Telemetry, or one that neither filters nor samples) */
  readonly all: boolean;
  /** Whether a line that is not a refusal is written; `attributes` is built only when a filter runs. */
  keep(attributes: () => AccessAttributes): boolean;
}

export type AccessGate = Record<Direction, SideGate>;

const EVERYTHING: SideGate = { all: true, keep: () => true };

function sideGate(rule: AccessLogRule | undefined, where: string): SideGate {
  if (!rule || (!rule.Disabled && rule.Filter === undefined && rule.SamplePercent === undefined)) return EVERYTHING;
  if (rule.Disabled) return { all: false, keep: () => false };
  let filter: CompiledFilter | undefined;
  if (rule.Filter !== undefined) {
    if (!compiler) throw invalid(`${where}.Filter: the filter language is not loaded (loadAccessLogFilters)`);
    const r = compiler(rule.Filter);
    if ('error' in r) throw invalid(`${where}.Filter (${rule.Policy ?? 'no Telemetry'}): ${r.error}`);
    filter = r.filter;
  }
  const fraction = rule.SamplePercent === undefined ? 1 : rule.SamplePercent / 100;
  return {
    all: false,
    keep: (attributes) => (filter === undefined || filter.matches(attributes())) && (fraction >= 1 || Math.random() < fraction),
  };
}

export function accessGate(snapshot: ProxySnapshot): AccessGate {
  const a = snapshot.AccessLog;
  return { inbound: sideGate(a?.Inbound, 'AccessLog.Inbound'), outbound: sideGate(a?.Outbound, 'AccessLog.Outbound') };
}

function splitHostPort(endpoint: string | undefined): { address: string; port: number } {
  if (!endpoint) return { address: '', port: 0 };
  const [address, port] = splitEndpoint(endpoint);
  return { address, port };
}

/** Envoy's attribute names for one HTTP exchange (filter.ts lists them). */
export function httpAttributes(ctx: HttpContext, principal: string, mtls: boolean): AccessAttributes {
  const q = ctx.request;
  const qi = q.path.indexOf('?');
  const up = splitHostPort(ctx.upstream);
  return {
    request: {
      method: q.method,
      path: q.path,
      url_path: qi < 0 ? q.path : q.path.slice(0, qi),
      query: qi < 0 ? '' : q.path.slice(qi + 1),
      host: q.authority ?? '',
      scheme: 'http',
      protocol: `HTTP/${q.httpVersion}`,
      useragent: typeof q.headers['user-agent'] === 'string' ? q.headers['user-agent'] : '',
      headers: q.headers,
      duration_ms: Number(process.hrtime.bigint() - ctx.startedAt) / 1e6,
    },
    response: { code: ctx.response?.status ?? 0, headers: ctx.response?.headers ?? {} },
    source: { address: ctx.source.address, port: ctx.source.port, principal },
    destination: { address: up.address, port: up.port, service: ctx.service?.name ?? ctx.cluster?.name ?? '' },
    connection: { mtls, protocol: 'http' },
  };
}

/** The attributes a relayed connection has: no request or response. */
export function tcpAttributes(ctx: TcpContext, principal: string, mtls: boolean): AccessAttributes {
  const up = splitHostPort(ctx.upstream);
  return {
    source: { address: ctx.source.address, port: ctx.source.port, principal },
    destination: { address: up.address, port: up.port, service: ctx.service?.name ?? ctx.cluster?.name ?? '' },
    connection: { mtls, protocol: 'tcp' },
  };
}
