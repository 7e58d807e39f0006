/**
 * How long a `tessera` command takes from exec to exit, against a running mesh, beside a bare
 * `node -e 0` in the same rounds: `version`, `get pods -A` and `proxy get config_dump POD`, each run
 * BENCH_CLI_RUNS times (default 20), the commands interleaved so load on a shared machine falls on
 * all of them alike. Wall time is what a user waits; user+system CPU (from /usr/bin/time, i.e. the
 * child's rusage) is what the command costs on a busy machine. `cliStartBench` returns a markdown
 * table; `node dist/bench/cli-start.js` starts a mesh with curl and httpbin, prints it, and stops.
 * BENCH_CLI_BASE=FILE also measures another build of the CLI (e.g. a checkout of main) in the same
 * rounds, for a before/after under the same load.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { deployDemo } from '../test/support/deploy.js';
import { CLI, podOf, startMesh, type TestMesh } from '../test/support/mesh.js';

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** Runs argv under /usr/bin/time; the command must succeed. */
function timed(argv: string[], env: NodeJS.ProcessEnv): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', ...argv], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  const [user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wallMs, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000 };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

export async function cliStartBench(mesh: TestMesh, pod: { name: string; namespace: string }, runs = Number(process.env['BENCH_CLI_RUNS'] ?? 20), base = process.env['BENCH_CLI_BASE']): Promise<string> {
  const env = { ...process.env, TESSERA_HOME: mesh.stateDir };
  const node = process.execPath;
  const of = (cli: string, label: string): [string, string[]][] => [
    [`tessera version${label}`, [node, cli, 'version']],
    [`tessera get pods -A${label}`, [node, cli, 'get', 'pods', '-A']],
    [`tessera proxy get config_dump POD${label}`, [node, cli, 'proxy', 'get', 'config_dump', pod.name, '-n', pod.namespace]],
  ];
  const commands: [string, string[]][] = [['node -e 0 (baseline)', [node, '-e', '0']], ...of(CLI, ''), ...(base ? of(base, ' (base)') : [])];
  // one warm-up round: the page cache holds the files afterwards, as for a user's second command
  for (const [, argv] of commands) timed(argv, env);
  const samples = commands.map((): Sample[] => []);
  const load0 = loadavg()[0]!;
  for (let i = 0; i < runs; i++) commands.forEach(([, argv], c) => samples[c]!.push(timed(argv, env)));
  const load1 = loadavg()[0]!;
  const rows = commands.map(([name], c) => {
    const wall = samples[c]!.map((s) => s.wallMs).sort((a, b) => a - b);
    const cpu = samples[c]!.map((s) => s.cpuMs).sort((a, b) => a - b);
    return `| ${name} | ${quantile(wall, 0.5).toFixed(0)} | ${quantile(wall, 0.9).toFixed(0)} | ${quantile(cpu, 0.5).toFixed(0)} |`;
  });
  return [
    `Command start to exit, ${runs} runs each, interleaved (Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}; CLI ${CLI}${base ? `, base ${base}` : ''}).`,
    '',
    '| command | wall median ms | wall p90 ms | CPU median ms (user+sys) |',
    '|---|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/** `node dist/bench/cli-start.js`: a mesh with the demo services, the table, the mesh stopped. */
export async function cliStartBenchWithMesh(): Promise<string> {
  const mesh = await startMesh('tessera');
  try {
    await deployDemo(mesh);
    const pod = await podOf(mesh, 'curl', 'curl');
    return await cliStartBench(mesh, { name: pod.name, namespace: 'curl' });
  } finally {
    await mesh.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await cliStartBenchWithMesh()}\n`);
}
