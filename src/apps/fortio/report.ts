/** fortio load's text: the banner before the run and the summary after it, line for line as fortio prints them. */
import { formatDuration } from './duration.js';
import { formatG } from './go-format.js';
import type { LoadResult } from './load-runner.js';
import { FORTIO_VERSION } from './version.js';

export const PERCENTILES: readonly number[] = [50, 75, 90, 99, 99.9];

export interface RunDescription {
  url: string;
  qps: number;
  threads: number;
  calls: number;
  durationNs: number;
  procs: number;
}

const rate = (qps: number): string => (qps > 0 ? `${formatG(qps, 6)} qps` : 'max qps');

/** `Fortio … running at …` and `Starting at …`. */
export function bannerLines(d: RunDescription): string[] {
  const what = d.calls > 0 ? `${d.calls} calls` : formatDuration(d.durationNs);
  const head = `Fortio ${FORTIO_VERSION} running at ${formatG(d.qps, 6)} queries per second, ${d.procs}->${d.procs} procs, for ${what}: ${d.url}`;
  const starting = `Starting at ${rate(d.qps)} with ${d.threads} thread(s) [gomax ${d.procs}]`;
  if (d.calls > 0) {
    return [head, `${starting} for exactly ${d.calls} calls (${Math.floor(d.calls / d.threads)} per thread + ${d.calls % d.threads})`];
  }
  if (d.qps > 0) {
    const each = Math.floor((d.qps / d.threads) * (d.durationNs / 1e9));
    return [head, `${starting} for ${formatDuration(d.durationNs)} : ${each} calls each (total ${each * d.threads} + 0)`];
  }
  return [head, `${starting} for ${formatDuration(d.durationNs)}`];
}

export interface SummaryStyle {
  /** -quiet: no histogram ranges */
  quiet: boolean;
  /** the response size lines print at log level Warning or more verbose */
  sizes: boolean;
}

export function summaryLines(r: LoadResult, threads: number, style: SummaryStyle): string[] {
  const seconds = r.elapsedNs / 1e9;
  const actualQps = seconds > 0 ? r.calls / seconds : 0;
  const out = [`Ended after ${formatDuration(r.elapsedNs)} : ${r.calls} calls. qps=${formatG(actualQps, 5)}`];
  out.push(...r.durations.lines('Aggregated Function Time', PERCENTILES, !style.quiet));
  out.push(r.errors.line('Error cases'));
  out.push(`Sockets used: ${r.sockets} (for perfect keepalive, would be ${threads})`);
  out.push('Uniform: false, Jitter: false, Catchup allowed: true');
  out.push('IP addresses distribution:');
  for (const [peer, n] of [...r.peers].sort((a, b) => b[1] - a[1])) out.push(`${peer}: ${n}`);
  for (const code of [...r.codes.keys()].sort((a, b) => a - b)) {
    const n = r.codes.get(code)!;
    out.push(`Code ${String(code).padStart(3)} : ${n} (${((100 * n) / r.calls).toFixed(1)} %)`);
  }
  if (style.sizes) {
    out.push(r.headerSizes.line('Response Header Sizes'));
    out.push(r.sizes.line('Response Body/Total Sizes'));
  }
  out.push(`All done ${r.calls} calls (plus ${r.warmupCalls} warmup) ${(r.durations.avg * 1000).toFixed(3)} ms avg, ${actualQps.toFixed(1)} qps`);
  return out;
}
