/**
 * How long a `tessera` command takes from exec to exit, against a running mesh, beside a bare
 * `node -e 0` in the same rounds: `version`, `get pods -A` and `proxy get config_dump POD`, each run
 * BENCH_CLI_RUNS times (default 20), the commands interleaved so load on a shared machine falls on
 * all of them alike. Wall time is what a user waits; user+system CPU (from /usr/bin/time, i.e. the
 * child's rusage) is what the command costs on a busy machine. `cliStartBench` returns a markdown
 * table; `node dist/bench/cli-start.js` starts a mesh with curl and httpbin, prints it, and stops.
 * BENCH_CLI_BASE=FILE also measures another build of the CLI (e.g. a checkout of main) in the same
 * rounds, for a before/after under the same load; with BENCH_CLI_BASE_MESH=1 the base CLI runs against
 * a second mesh that the base build started (its own API server and sidecars), so a change on the
 * server side of a command shows in the comparison too.
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

interface Target {
  mesh: TestMesh;
  pod: { name: string; namespace: string };
}

export async function cliStartBench(mesh: TestMesh, pod: { name: string; namespace: string }, runs = Number(process.env['BENCH_CLI_RUNS'] ?? 20), base = process.env['BENCH_CLI_BASE'], baseTarget?: Target): Promise<string> {
  const node = process.execPath;
  const of = (cli: string, label: string, t: Target): [string, string[], NodeJS.ProcessEnv][] => {
    const env = { ...process.env, TESSERA_HOME: t.mesh.stateDir };
    return [
      [`tessera version${label}`, [node, cli, 'version'], env],
      [`tessera get pods -A${label}`, [node, cli, 'get', 'pods', '-A'], env],
      [`tessera proxy get config_dump POD${label}`, [node, cli, 'proxy', 'get', 'config_dump', t.pod.name, '-n', t.pod.namespace], env],
    ];
  };
  const commands: [string, string[], NodeJS.ProcessEnv][] = [
    ['node -e 0 (baseline)', [node, '-e', '0'], process.env],
    ...of(CLI, '', { mesh, pod }),
    ...(base ? of(base, baseTarget ? ' (base, its mesh)' : ' (base)', baseTarget ?? { mesh, pod }) : []),
  ];
  // one warm-up round: the page cache holds the files afterwards, as for a user's second command
  for (const [, argv, env] of commands) timed(argv, env);
  const samples = commands.map((): Sample[] => []);
  const load0 = loadavg()[0]!;
  for (let i = 0; i < runs; i++) commands.forEach(([, argv, env], c) => samples[c]!.push(timed(argv, env)));
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
  const base = process.env['BENCH_CLI_BASE'];
  const meshes: TestMesh[] = [];
  const withDemo = async (name: string, cli?: string): Promise<Target> => {
    const mesh = await startMesh(name, [], cli ? { cli } : {});
    meshes.push(mesh);
    await deployDemo(mesh);
    const pod = await podOf(mesh, 'curl', 'curl');
    return { mesh, pod: { name: pod.name, namespace: 'curl' } };
  };
  try {
    const ours = await withDemo('tessera');
    const baseTarget = base && process.env['BENCH_CLI_BASE_MESH'] === '1' ? await withDemo('tesserabase', base) : undefined;
    return await cliStartBench(ours.mesh, ours.pod, undefined, base, baseTarget);
  } finally {
    for (const mesh of meshes) await mesh.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await cliStartBenchWithMesh()}\n`);
}
