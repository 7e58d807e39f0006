/**
 * `tessera logs POD|pod/NAME [-c CONTAINER] [-f] [-p] [--tail N] [--since DURATION | --since-time TIME]
 * [--limit-bytes N] [--timestamps]`: a container's (or the sidecar's) log, with kubectl's flags. The
 * server does the reading (from the end, streamed); this prints what arrives as it arrives.
 */
import type { Command } from 'commander';
import type { LogsQuery } from '../../local/api-contract.js';
import type { CliDeps } from '../deps.js';
import { UsageError } from '../errors.js';
import { namespaceOf, podNameArg, stateDirOf } from './common.js';

export interface LogsOptions {
  stateDir: string;
  pod: string;
  namespace?: string;
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail?: string;
  since?: string;
  sinceTime?: string;
  limitBytes?: string;
  timestamps?: boolean;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`5s`, `2m30s`, `1h`) in milliseconds, as kubectl's `--since` takes it. */
export function parseDuration(text: string, flag: string): number {
  const part = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m) throw new UsageError(`${flag}: "${text}" is not a duration (e.g. 30s, 5m, 1h)`);
    ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    at = part.lastIndex;
  }
  if (text === '') throw new UsageError(`${flag}: a duration is required (e.g. 30s, 5m, 1h)`);
  return ms;
}

/** The pods/log query the flags mean; usage errors where kubectl would refuse them. */
export function logsQueryOf(opts: Omit<LogsOptions, 'stateDir' | 'pod' | 'namespace'>): LogsQuery {
  const q: LogsQuery = {};
  if (opts.container) q.container = opts.container;
  if (opts.follow) q.follow = true;
  if (opts.previous) q.previous = true;
  if (opts.timestamps) q.timestamps = true;
  if (opts.tail !== undefined) {
    const tail = Number(opts.tail);
    if (!/^-?[0-9]+$/.test(opts.tail)) throw new UsageError(`--tail must be an integer, got "${opts.tail}"`);
    if (tail >= 0) q.tailLines = tail;
  }
  if (opts.limitBytes !== undefined) {
    const n = Number(opts.limitBytes);
    if (!/^[0-9]+$/.test(opts.limitBytes) || n < 1) throw new UsageError(`--limit-bytes must be a positive integer, got "${opts.limitBytes}"`);
    q.limitBytes = n;
  }
  if (opts.since !== undefined && opts.sinceTime !== undefined) throw new UsageError('at most one of --since-time and --since may be specified');
  if (opts.since !== undefined) {
    const ms = parseDuration(opts.since, '--since');
    if (ms <= 0) throw new UsageError(`--since must be greater than 0, got "${opts.since}"`);
    q.sinceSeconds = Math.ceil(ms / 1000);
  }
  if (opts.sinceTime !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}T/.test(opts.sinceTime) || Number.isNaN(Date.parse(opts.sinceTime))) {
      throw new UsageError(`--since-time must be an RFC 3339 time (e.g. 2026-12-07T15:00:00Z), got "${opts.sinceTime}"`);
    }
    q.sinceTime = opts.sinceTime;
  }
  return q;
}

export async function runLogs(opts: LogsOptions, deps: CliDeps): Promise<void> {
  const query = logsQueryOf(opts);
  const namespace = opts.namespace ?? 'default';
  const pod = podNameArg(opts.pod);
  const api = await deps.connect(opts.stateDir);
  const stream = await api.streamLogs(namespace, pod, query);
  // a character split between two chunks is printed once whole
  const text = new TextDecoder();
  for await (const chunk of stream) deps.stdout.write(text.decode(chunk, { stream: true }));
  const rest = text.decode();
  if (rest) deps.stdout.write(rest);
}

export function registerLogs(program: Command, deps: CliDeps): void {
  program
    .command('logs')
    .description("Print a container's log (container `sidecar` is the sidecar)")
    .argument('<pod>', 'POD or pod/NAME')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-c, --container <name>', 'container name, or sidecar')
    .option('-f, --follow', 'keep printing as the log grows (across rotations), until the pod goes away')
    .option('-p, --previous', "the container's previous run (before its last restart)")
    .option('--tail <lines>', 'only the last N lines (-1: all)')
    .option('--since <duration>', 'only lines newer than this, e.g. 30s, 5m, 1h')
    .option('--since-time <time>', 'only lines at or after this RFC 3339 time')
    .option('--limit-bytes <n>', 'at most N bytes of output')
    .option('--timestamps', 'each line prefixed with the time it was written (RFC 3339, nanoseconds)')
    .action(async (pod: string, o: Omit<LogsOptions, 'stateDir' | 'pod' | 'namespace'>, cmd: Command) => {
      await runLogs({ stateDir: stateDirOf(cmd, deps), pod, namespace: namespaceOf(cmd), ...o }, deps);
    });
}
