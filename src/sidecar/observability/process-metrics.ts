/**
 * The process metrics prom-client's collectDefaultMetrics exports, under the same names, read at
 * scrape time from Node and /proc. Written here because prom-client (with @opentelemetry/api and
 * its summaries) held ~10 MiB of every sidecar for these alone (docs/benchmarks.md, "Sidecar memory").
 */
import { readFileSync, readdirSync } from 'node:fs';
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';

const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5] as const;
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

interface GcSeries {
  counts: number[];
  sum: number;
  count: number;
}

export class ProcessMetrics {
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private readonly gc = new Map<string, GcSeries>();
  private readonly startTime = Math.round(Date.now() / 1000 - process.uptime());

  constructor(
    private readonly prefix: string,
    /** rendered `k="v"` pairs every series carries, or '' */
    private readonly labels: string,
  ) {
    this.loopDelay.enable();
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = GC_KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'unknown';
        let s = this.gc.get(kind);
        if (!s) this.gc.set(kind, (s = { counts: GC_BUCKETS.map(() => 0), sum: 0, count: 0 }));
        const seconds = e.duration / 1000;
        s.sum += seconds;
        s.count++;
        for (let i = 0; i < GC_BUCKETS.length; i++) if (seconds <= GC_BUCKETS[i]!) s.counts[i]!++;
      }
    });
    observer.observe({ entryTypes: ['gc'] });
  }

  /** The metrics in the text exposition format; the event loop delay statistics restart after each read. */
  async text(): Promise<string> {
    const lag = await new Promise<number>((resolve) => {
      const start = process.hrtime.bigint();
      setImmediate(() => resolve(Number(process.hrtime.bigint() - start) / 1e9));
    });
    let out = '';
    const metric = (name: string, type: string, help: string, series: [string, number][]): void => {
      out += `# HELP ${this.prefix}${name} ${help}\n# TYPE ${this.prefix}${name} ${type}\n`;
      for (const [labels, value] of series) {
        const all = [this.labels, labels].filter(Boolean).join(',');
        out += `${this.prefix}${name}${all ? `{${all}}` : ''} ${value}\n`;
      }
    };
    const one = (name: string, type: string, help: string, value: number): void => metric(name, type, help, [['', value]]);
    const cpu = process.cpuUsage();
    one('process_cpu_user_seconds_total', 'counter', 'Total user CPU time spent in seconds.', cpu.user / 1e6);
    one('process_cpu_system_seconds_total', 'counter', 'Total system CPU time spent in seconds.', cpu.system / 1e6);
    one('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6);
    one('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', this.startTime);
    const status = procStatus();
    one('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', status['VmRSS'] ?? process.memoryUsage.rss());
    if (status['VmSize'] !== undefined) one('process_virtual_memory_bytes', 'gauge', 'Virtual memory size in bytes.', status['VmSize']);
    if (status['VmData'] !== undefined) one('process_heap_bytes', 'gauge', 'Process heap size in bytes.', status['VmData']);
    const fds = openFds();
    if (fds !== undefined) one('process_open_fds', 'gauge', 'Number of open file descriptors.', fds);
    const maxFds = maxOpenFiles();
    if (maxFds !== undefined) one('process_max_fds', 'gauge', 'Maximum number of open file descriptors.', maxFds);
    const d = this.loopDelay;
    one('nodejs_eventloop_lag_seconds', 'gauge', 'Lag of event loop in seconds.', lag);
    one('nodejs_eventloop_lag_min_seconds', 'gauge', 'The minimum recorded event loop delay.', finite(d.min) / 1e9);
    one('nodejs_eventloop_lag_max_seconds', 'gauge', 'The maximum recorded event loop delay.', finite(d.max) / 1e9);
    one('nodejs_eventloop_lag_mean_seconds', 'gauge', 'The mean of the recorded event loop delays.', finite(d.mean) / 1e9);
    one('nodejs_eventloop_lag_stddev_seconds', 'gauge', 'The standard deviation of the recorded event loop delays.', finite(d.stddev) / 1e9);
    one('nodejs_eventloop_lag_p50_seconds', 'gauge', 'The 50th percentile of the recorded event loop delays.', finite(d.percentile(50)) / 1e9);
    one('nodejs_eventloop_lag_p90_seconds', 'gauge', 'The 90th percentile of the recorded event loop delays.', finite(d.percentile(90)) / 1e9);
    one('nodejs_eventloop_lag_p99_seconds', 'gauge', 'The 99th percentile of the recorded event loop delays.', finite(d.percentile(99)) / 1e9);
    d.reset();
    const resources = byName(process.getActiveResourcesInfo());
    metric('nodejs_active_resources', 'gauge', 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.', [...resources].map(([t, n]) => [`type="${t}"`, n]));
    one('nodejs_active_resources_total', 'gauge', 'Total number of active resources.', process.getActiveResourcesInfo().length);
    const mem = process.memoryUsage();
    one('nodejs_heap_size_total_bytes', 'gauge', 'Process heap size from Node.js in bytes.', mem.heapTotal);
    one('nodejs_heap_size_used_bytes', 'gauge', 'Process heap size used from Node.js in bytes.', mem.heapUsed);
    one('nodejs_external_memory_bytes', 'gauge', 'Node.js external memory size in bytes.', mem.external);
    // node:v8 is loaded by the first scrape, not by every sidecar at start
    const spaces = process.getBuiltinModule('node:v8').getHeapSpaceStatistics().map((s) => ({ space: s.space_name.replace(/_space$/, ''), s }));
    metric('nodejs_heap_space_size_total_bytes', 'gauge', 'Process heap space size total from Node.js in bytes.', spaces.map(({ space, s }) => [`space="${space}"`, s.space_size]));
    metric('nodejs_heap_space_size_used_bytes', 'gauge', 'Process heap space size used from Node.js in bytes.', spaces.map(({ space, s }) => [`space="${space}"`, s.space_used_size]));
    metric('nodejs_heap_space_size_available_bytes', 'gauge', 'Process heap space size available from Node.js in bytes.', spaces.map(({ space, s }) => [`space="${space}"`, s.space_available_size]));
    const [major, minor, patch] = process.versions.node.split('.');
    metric('nodejs_version_info', 'gauge', 'Node.js version info.', [[`version="${process.version}",major="${major}",minor="${minor}",patch="${patch}"`, 1]]);
    out += `# HELP ${this.prefix}nodejs_gc_duration_seconds Garbage collection duration by kind, one of major, minor, incremental or weakcb.\n# TYPE ${this.prefix}nodejs_gc_duration_seconds histogram\n`;
    for (const [kind, s] of this.gc) {
      const labels = [this.labels, `kind="${kind}"`].filter(Boolean).join(',');
      GC_BUCKETS.forEach((le, i) => (out += `${this.prefix}nodejs_gc_duration_seconds_bucket{${labels},le="${le}"} ${s.counts[i]}\n`));
      out += `${this.prefix}nodejs_gc_duration_seconds_bucket{${labels},le="+Inf"} ${s.count}\n`;
      out += `${this.prefix}nodejs_gc_duration_seconds_sum{${labels}} ${s.sum}\n`;
      out += `${this.prefix}nodejs_gc_duration_seconds_count{${labels}} ${s.count}\n`;
    }
    return out;
  }
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

function byName(names: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of names) out.set(n, (out.get(n) ?? 0) + 1);
  return out;
}

/** VmRSS, VmSize, VmData… of /proc/self/status, in bytes; empty off Linux. */
function procStatus(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of readFileSync('/proc/self/status', 'utf8').matchAll(/^(Vm\w+):\s+(\d+) kB$/gm)) out[m[1]!] = Number(m[2]) * 1024;
  } catch {
    // not Linux
  }
  return out;
}

function openFds(): number | undefined {
  try {
    // the directory's own descriptor is among them
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

function maxOpenFiles(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
