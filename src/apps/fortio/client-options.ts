/**
 * The client side of fortio's command line (`load`, `curl`): flags checked at the edge, with the
 * bounds this stand-in keeps (calls, duration, connections) so no run is unbounded.
 */
import { parseDuration } from './duration.js';
import { FlagError, parseFlags, type FlagKind } from './flags.js';
import { parseLogLevel, type LogLevel } from './log.js';

export const LOAD_FLAGS: Readonly<Record<string, FlagKind>> = {
  c: 'value', qps: 'value', n: 'value', t: 'value', quiet: 'bool', loglevel: 'value', H: 'list', timeout: 'value',
  payload: 'value', 'content-type': 'value', 'allow-initial-errors': 'bool', logcaller: 'bool',
};
export const CURL_FLAGS: Readonly<Record<string, FlagKind>> = {
  H: 'list', timeout: 'value', payload: 'value', 'content-type': 'value', loglevel: 'value', quiet: 'bool', logcaller: 'bool',
};

export const LIMITS = { maxCalls: 1_000_000, maxDurationNs: 600e9, maxThreads: 1000, maxQps: 100_000 } as const;

export interface ClientOptions {
  url: URL;
  threads: number;
  qps: number;
  calls: number;
  durationNs: number;
  quiet: boolean;
  logLevel: LogLevel;
  headers: [string, string][];
  timeoutMs: number;
  payload?: Buffer;
  contentType?: string;
  notes: string[];
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) throw new FlagError(`-${flag} ${text}: want a whole number from ${min} to ${max}`);
  return n;
}

function duration(flag: string, text: string): number {
  const ns = parseDuration(text);
  if (ns === undefined || ns < 0) throw new FlagError(`-${flag} ${text}: not a duration (e.g. 5s, 250ms, 1m)`);
  return ns;
}

/** fortio adds `http://` to a URL without a scheme; https is not served by this stand-in. */
export function targetUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new FlagError(`${text}: not a URL`);
  }
  if (url.protocol !== 'http:') throw new FlagError(`${text}: only http:// URLs are supported by Tessera's built-in fortio`);
  return url;
}

export function parseClientOptions(command: 'load' | 'curl', argv: readonly string[]): ClientOptions {
  const flags = parseFlags(argv, command === 'load' ? LOAD_FLAGS : CURL_FLAGS);
  if (flags.rest.length !== 1) throw new FlagError(`fortio ${command} needs exactly one URL, got ${flags.rest.length === 0 ? 'none' : flags.rest.join(' ')}`);
  const v = (name: string): string | undefined => flags.values.get(name);
  const notes: string[] = [];
  const quiet = flags.bools.get('quiet') ?? false;
  const headers = (flags.lists.get('H') ?? []).map((h): [string, string] => {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new FlagError(`-H ${h}: want "Name: value"`);
    return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()];
  });
  const calls = v('n') === undefined ? 0 : integer('n', v('n')!, 0, LIMITS.maxCalls);
  let durationNs = v('t') === undefined ? 5e9 : duration('t', v('t')!);
  if (calls === 0 && durationNs === 0) {
    durationNs = LIMITS.maxDurationNs;
    notes.push(`-t 0 (until interrupted) runs at most ${LIMITS.maxDurationNs / 60e9} minutes here`);
  }
  if (durationNs > LIMITS.maxDurationNs) throw new FlagError(`-t ${v('t')}: at most ${LIMITS.maxDurationNs / 60e9}m`);
  const qpsText = v('qps') ?? '8';
  const qps = Number(qpsText);
  if (!Number.isFinite(qps) || qps > LIMITS.maxQps) throw new FlagError(`-qps ${qpsText}: want a number up to ${LIMITS.maxQps} (0 or -1: as fast as possible)`);
  const payloadText = v('payload');
  return {
    url: targetUrl(flags.rest[0]!),
    threads: v('c') === undefined ? 4 : integer('c', v('c')!, 1, LIMITS.maxThreads),
    qps: qps > 0 ? qps : 0,
    calls,
    durationNs,
    quiet,
    logLevel: quiet ? 'Error' : parseLogLevel(v('loglevel') ?? 'Info'),
    headers,
    timeoutMs: v('timeout') === undefined ? 3000 : Math.max(1, duration('timeout', v('timeout')!) / 1e6),
    ...(payloadText !== undefined ? { payload: Buffer.from(payloadText) } : {}),
    ...(v('content-type') !== undefined ? { contentType: v('content-type')! } : {}),
    notes,
  };
}

/** The forward proxy for `url` from http_proxy / HTTP_PROXY, unless no_proxy / NO_PROXY lists its host. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const proxy = env['http_proxy'] || env['HTTP_PROXY'];
  if (!proxy) return undefined;
  const noProxy = (env['no_proxy'] ?? env['NO_PROXY'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const host = url.hostname;
  if (noProxy.some((n) => n === '*' || host === n.replace(/^\./, '') || host.endsWith(n.startsWith('.') ? n : `.${n}`))) return undefined;
  try {
    return new URL(/^[a-z]+:\/\//i.test(proxy) ? proxy : `http://${proxy}`);
  } catch {
    throw new FlagError(`http_proxy ${proxy}: not a URL`);
  }
}
