/**
 * Container logs (issue #19): what the daemon pays to own a container's output (pipes read by the
 * rotating writer, beside the child writing straight to a file), and what `logs --tail 10` costs on
 * a log that has written 1 GiB, with the reading process's memory before and after.
 *
 * Disk stays bounded: the rotated run keeps at most 5 × 10 MiB; the 1 GiB file (one file, max-size
 * above it, as an unrotated log) and the direct-write baseline exist one at a time and everything is
 * removed at the end. BENCH_LOG_BYTES sets the volume (default 1 GiB).
 * `logsBench` returns markdown; `node dist/bench/container-logs.js` prints it.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ContainerLogWriter, readContainerLog, runFiles, timestampOf, type LogRotation, type ReadLogOptions } from '../src/local/container-log/index.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** A child that writes `bytes` of 100-character lines to its stdout, as fast as it can. */
function producer(bytes: number, stdout: 'pipe' | number) {
  return spawn('sh', ['-c', `yes "$(printf 'x%.0s' $(seq 1 99))" | head -c ${bytes}`], { stdio: ['ignore', stdout, 'ignore'] });
}

interface WriteResult {
  wallS: number;
  /** this process's CPU (the daemon's share), seconds */
  cpuS: number;
  diskBytes: number;
}

async function throughWriter(file: string, bytes: number, rotation: LogRotation): Promise<WriteResult> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const writer = new ContainerLogWriter(file, rotation);
  const child = producer(bytes, 'pipe');
  writer.attach(child.stdout!, 'stdout');
  await new Promise((r) => child.stdout!.once('close', r));
  writer.close();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const diskBytes = runFiles(file).reduce((n, f) => n + statSync(f.path).size, 0);
  return { wallS, cpuS: (cpu.user + cpu.system) / 1e6, diskBytes };
}

async function direct(file: string, bytes: number): Promise<WriteResult> {
  const fd = openSync(file, 'a');
  const t0 = performance.now();
  const child = producer(bytes, fd);
  closeSync(fd);
  await new Promise((r) => child.once('close', r));
  return { wallS: (performance.now() - t0) / 1000, cpuS: 0, diskBytes: statSync(file).size };
}

async function drain(file: string, opts: ReadLogOptions): Promise<number> {
  let n = 0;
  for await (const c of await readContainerLog(file, opts, new AbortController().signal)) n += (c as Buffer).length;
  return n;
}

interface ReadTiming {
  median: number;
  p90: number;
  max: number;
  out: number;
}

async function timeRead(file: string, opts: ReadLogOptions, runs = opts.limitBytes && opts.limitBytes > MiB ? 3 : 30): Promise<ReadTiming> {
  const ms: number[] = [];
  let out = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = await drain(file, opts);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(runs / 2)]!, p90: ms[Math.floor(runs * 0.9)]!, max: ms[runs - 1]!, out };
}

/** The timestamp of the n-th line from the end. */
async function timeOfLine(file: string, n: number): Promise<string> {
  let text = '';
  for await (const c of await readContainerLog(file, { tailLines: n, timestamps: true, limitBytes: 64 }, new AbortController().signal)) text += String(c);
  return text.slice(0, 30);
}

const mib = (b: number) => (b / MiB).toFixed(1);

export async function logsBench(bytes = Number(process.env['BENCH_LOG_BYTES'] ?? GiB)): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-logs-'));
  const lines: string[] = [];
  try {
    const base = await direct(join(dir, 'direct.log'), bytes);
    rmSync(join(dir, 'direct.log'));
    const rotated = await throughWriter(join(dir, 'rotated', 'app.log'), bytes, { maxSize: 10 * MiB, maxFiles: 5 });
    rmSync(join(dir, 'rotated'), { recursive: true });
    const bigFile = join(dir, 'big', 'app.log');
    const big = await throughWriter(bigFile, bytes, { maxSize: 4 * bytes, maxFiles: 2 });
    lines.push(
      `Container output, ${mib(bytes)} MiB of 100-byte lines from \`yes | head -c\` (${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]!.toFixed(1)}):`,
      '',
      '| how the output reaches the disk | wall s | MiB/s | daemon CPU s (per GiB) | on disk MiB |',
      '|---|---:|---:|---:|---:|',
      `| child writes straight to a file (before; no rotation possible) | ${base.wallS.toFixed(2)} | ${(bytes / MiB / base.wallS).toFixed(0)} | 0 | ${mib(base.diskBytes)} |`,
      `| pipe → rotating CRI writer, 10Mi × 5 (the defaults) | ${rotated.wallS.toFixed(2)} | ${(bytes / MiB / rotated.wallS).toFixed(0)} | ${rotated.cpuS.toFixed(2)} (${(rotated.cpuS * GiB / bytes).toFixed(2)}) | ${mib(rotated.diskBytes)} |`,
      `| pipe → CRI writer, one file (the input of the reads below) | ${big.wallS.toFixed(2)} | ${(bytes / MiB / big.wallS).toFixed(0)} | ${big.cpuS.toFixed(2)} (${(big.cpuS * GiB / bytes).toFixed(2)}) | ${mib(big.diskBytes)} |`,
      '',
    );
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    let rssPeak = rss0;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 5);
    const cases: [string, ReadLogOptions][] = [
      ['--tail 10', { tailLines: 10 }],
      ['--tail 1000', { tailLines: 1000 }],
      ['--tail 10 --timestamps', { tailLines: 10, timestamps: true }],
      ['--since (the time of the 1000th line from the end)', { since: await timeOfLine(bigFile, 1000) }],
      ['--since 1h --limit-bytes 64Mi (streams 64 MiB)', { since: timestampOf(new Date(Date.now() - 3_600_000)), limitBytes: 64 * MiB }],
      ['--limit-bytes 4096 (from the start)', { limitBytes: 4096 }],
    ];
    lines.push(
      `Reading the ${mib(big.diskBytes)} MiB file in the daemon (readContainerLog, 30 runs each, 3 for the 64 MiB one):`,
      '',
      '| query | median ms | p90 ms | max ms | output bytes |',
      '|---|---:|---:|---:|---:|',
    );
    for (const [name, opts] of cases) {
      const t = await timeRead(bigFile, opts);
      lines.push(`| ${name} | ${t.median.toFixed(2)} | ${t.p90.toFixed(2)} | ${t.max.toFixed(2)} | ${t.out} |`);
    }
    clearInterval(sampler);
    const rss1 = process.memoryUsage().rss;
    lines.push('', `Memory of the reading process across all those reads: RSS ${mib(rss0)} → ${mib(rss1)} MiB (peak ${mib(rssPeak)}), heap used ${mib(heap0)} → ${mib(process.memoryUsage().heapUsed)} MiB.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await logsBench()}\n`);
}
