/** Benchmark plumbing: processes pinned to cores, wrk runs, /proc CPU and RSS readings. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

export const CLK_TCK = 100;

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/PID/stat (1-based), i.e. 11 and 12 after the comm
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Spawns a process, pinned to `core` with taskset when available. */
export function spawnPinned(core: number | undefined, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const pin = core !== undefined && hasCommand('taskset');
  const child = pin
    ? spawn('taskset', ['-c', String(core), cmd, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] })
    : spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return child;
}

export async function waitForPort(host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface WrkResult {
  requests: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  non2xx: number;
}

/** Runs wrk (one thread, pinned to `core`) and parses its --latency report. */
export function runWrk(
  url: string,
  opts: { connections: number; seconds: number; core?: number; headers?: string[]; spawn?: (argv: string[]) => ChildProcess },
): Promise<WrkResult> {
  const args = ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency', ...(opts.headers ?? []).flatMap((h) => ['-H', h]), url];
  const pin = opts.core !== undefined && hasCommand('taskset');
  const argv = pin ? ['taskset', '-c', String(opts.core), 'wrk', ...args] : ['wrk', ...args];
  return new Promise((resolve, reject) => {
    // opts.spawn: somewhere else than here (inside a pod's sandbox), with stdout and stderr piped
    const child = opts.spawn ? opts.spawn(argv) : spawn(argv[0]!, argv.slice(1));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
      const ms = (re: RegExp): number => {
        const m = re.exec(out);
        if (!m) return NaN;
        const v = Number(m[1]);
        return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
      };
      const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({
        requests: num(/(\d+) requests in/),
        rps: num(/Requests\/sec:\s+([\d.]+)/),
        p50ms: ms(/50%\s+([\d.]+)(us|ms|s)/),
        p99ms: ms(/99%\s+([\d.]+)(us|ms|s)/),
        errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
        non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
      });
    });
  });
}
