/**
 * `node dist/bench/sidecar-memory.js`: what one sidecar holds in memory, beside a bare Node process
 * started in the same run, idle after its first snapshot and after the one-hop load of bench/run.ts;
 * with each set of V8 flags in BENCH_MEM_FLAGS, and which modules it loaded (BENCH_MEM_TRACE=1).
 *
 * Environment: BENCH_MEM_FLAGS (variants separated by `;`, each a space-separated list of node
 * flags; default: none, then the flags the runtime starts sidecars with), BENCH_SECONDS (load, default
 * 8), BENCH_CONNECTIONS (default 50), BENCH_MEM_IDLE_MS (settle time before the idle reading, default
 * 4000), BENCH_MEM_WORLD (plain | mtls | pipy | iam, default plain), BENCH_MEM_TRACE=1 (also list
 * the modules, with their size on disk), BENCH_MEM_SIDECAR (the sidecar entry to run, e.g. another
 * checkout's dist/src/sidecar/main.js; default this build's).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { proxyToken } from '../src/local/layout.js';
import { SIDECAR_NODE_FLAGS } from '../src/sidecar/node-flags.js';
import { MODULE_TRACE_ENV, MODULE_TRACE_REGISTER } from '../src/sidecar/test-support/module-trace/index.js';
import { cpuSeconds, hasCommand, rssMiB, runWrk, spawnPinned, waitForHttp, waitForPort } from './support.js';
import { BenchDelivery, SERVER_UUID, addresses, snapshots, world, type WorldOptions } from './world.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const IDLE_MS = Number(process.env['BENCH_MEM_IDLE_MS'] ?? 4000);
const MESH_KEY = 'ab'.repeat(32);
const WORLDS: Record<string, WorldOptions> = {
  plain: { mtls: false }, mtls: { mtls: true }, pipy: { mtls: true, plugins: 'pipy-injector' }, iam: { mtls: true, plugins: 'iam' },
};

const children: ChildProcess[] = [];
function track(c: ChildProcess): ChildProcess {
  children.push(c);
  return c;
}
function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
  });
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Reading {
  flags: string;
  bareIdle: number;
  idle: number;
  heapIdle: string;
  loaded: number;
  cpuUsPerReq: number;
  rps: number;
  heapLoaded: string;
}

async function heapOf(admin: string): Promise<string> {
  const text = await (await fetch(`${admin}/stats/prometheus`)).text();
  const metric = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
  return `${metric('tessera_sidecar_nodejs_heap_size_used_bytes').toFixed(1)}/${metric('tessera_sidecar_nodejs_external_memory_bytes').toFixed(1)}`;
}

async function main(): Promise<void> {
  const load = hasCommand('wrk');
  if (!load) process.stderr.write('wrk not found: idle figures only\n');
  const block = 150 + (process.pid % 40);
  const a = addresses(block);
  const dataRoot = mkdtempSync(join(tmpdir(), 'tessera-bench-mem-'));
  const worldName = process.env['BENCH_MEM_WORLD'] ?? 'plain';
  const opts = WORLDS[worldName];
  if (!opts) throw new Error(`BENCH_MEM_WORLD must be one of ${Object.keys(WORLDS).join(', ')}, not ${worldName}`);
  const delivery = new BenchDelivery();
  await delivery.startCa();
  const snaps = await snapshots(await world(a, opts));
  delivery.publish(snaps);
  await delivery.listen(a.controller, 6060);
  const sidecarMain = process.env['BENCH_MEM_SIDECAR'] ?? fileURLToPath(new URL('../src/sidecar/main.js', import.meta.url));
  const upstreamCode =
    "const b=Buffer.from('x'.repeat(100));require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain','content-length':100});s.end(b)}).listen(+process.env.PORT,process.env.HOST)";
  track(spawnPinned(1, process.execPath, ['-e', upstreamCode], { ...process.env, HOST: a.serverLocal, PORT: '14001' }));
  await waitForPort(a.serverLocal, 14001);

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    TESSERA_POD_NAME: 'httpbin-0', TESSERA_POD_NAMESPACE: 'httpbin', TESSERA_POD_UID: 'httpbin-0-uid',
    TESSERA_POD_IP: a.serverPod, TESSERA_LOCAL_IP: a.serverLocal, TESSERA_SERVICE_ACCOUNT: 'httpbin',
    TESSERA_PROXY_UUID: SERVER_UUID, TESSERA_PROXY_TOKEN: proxyToken(MESH_KEY, SERVER_UUID),
    TESSERA_CONTROLLER_URL: `http://${a.controller}:6060`, TESSERA_SIDECAR_DIR: join(dataRoot, 'httpbin-0'), TESSERA_MESH_NAME: 'bench',
    ...extra,
  });
  const admin = `http://${a.serverPod}:15000`;
  const startSidecar = async (flags: string[], extra: NodeJS.ProcessEnv = {}): Promise<ChildProcess> => {
    delivery.acks.length = 0;
    const c = track(spawnPinned(0, process.execPath, [...flags, sidecarMain], env(extra)));
    await waitForHttp(`${admin}/ready`);
    const deadline = Date.now() + 15_000;
    while (!delivery.applied(SERVER_UUID)) {
      if (Date.now() > deadline) throw new Error('the sidecar did not apply its snapshot');
      await sleep(50);
    }
    await waitForPort(a.serverPod, 14001);
    return c;
  };

  if (process.env['BENCH_MEM_TRACE'] === '1') {
    const traceFile = join(dataRoot, 'modules.txt');
    const c = await startSidecar(['--import', MODULE_TRACE_REGISTER.href], { [MODULE_TRACE_ENV]: traceFile });
    if (load) await runWrk(`http://${a.serverPod}:14001/get`, { connections: CONNECTIONS, seconds: 1, core: 1 });
    await stop(c);
    process.stdout.write(moduleReport(readFileSync(traceFile, 'utf8'), worldName));
  }

  const variants = (process.env['BENCH_MEM_FLAGS'] ?? `;${SIDECAR_NODE_FLAGS.join(' ')}`).split(';').map((v) => v.trim());
  const readings: Reading[] = [];
  for (const v of variants) {
    const flags = v ? v.split(/\s+/) : [];
    const bare = track(spawnPinned(0, process.execPath, [...flags, '-e', 'setInterval(() => {}, 1e9)'], process.env));
    const c = await startSidecar(flags);
    await sleep(IDLE_MS);
    const reading: Reading = {
      flags: v || '(none)', bareIdle: rssMiB(bare.pid!), idle: rssMiB(c.pid!), heapIdle: await heapOf(admin), loaded: NaN, cpuUsPerReq: NaN, rps: NaN, heapLoaded: '–',
    };
    if (load) {
      const url = `http://${a.serverPod}:14001/get`;
      await runWrk(url, { connections: CONNECTIONS, seconds: 2, core: 1 });
      const before = cpuSeconds(c.pid!);
      const wrk = await runWrk(url, { connections: CONNECTIONS, seconds: SECONDS, core: 1 });
      reading.cpuUsPerReq = ((cpuSeconds(c.pid!) - before) * 1e6) / wrk.requests;
      reading.loaded = rssMiB(c.pid!);
      reading.rps = wrk.rps;
      reading.heapLoaded = await heapOf(admin);
    }
    readings.push(reading);
    process.stderr.write(`  ${reading.flags}: idle ${reading.idle.toFixed(1)} MiB (bare node ${reading.bareIdle.toFixed(1)}), loaded ${reading.loaded.toFixed(1)} MiB, ${reading.cpuUsPerReq.toFixed(1)} µs/req\n`);
    await Promise.all([stop(c), stop(bare)]);
  }
  delivery.close();
  for (const c of children) await stop(c);
  rmSync(dataRoot, { recursive: true, force: true });
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–');
  let out = `\nsidecar memory, ${worldName} snapshot, one hop (inbound) ${SECONDS}s × ${CONNECTIONS} connections\n\n`;
  out += '| node flags | bare node idle RSS MiB | sidecar idle RSS MiB | heap / external idle MiB | sidecar RSS after load MiB | heap / external after load MiB | CPU µs/req | req/s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n';
  for (const r of readings) out += `| \`${r.flags}\` | ${f(r.bareIdle)} | ${f(r.idle)} | ${r.heapIdle} | ${f(r.loaded)} | ${r.heapLoaded} | ${f(r.cpuUsPerReq)} | ${f(r.rps, 0)} |\n`;
  process.stdout.write(out);
}

/** Modules by package (the project's own files as one group), with their count and bytes on disk. */
function moduleReport(trace: string, worldName: string): string {
  const groups = new Map<string, { files: number; bytes: number }>();
  const builtins: string[] = [];
  for (const url of new Set(trace.split('\n').filter(Boolean))) {
    if (url.startsWith('node:')) {
      builtins.push(url.slice(5));
      continue;
    }
    if (!url.startsWith('file:')) continue;
    const path = fileURLToPath(url);
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m ? m[1]! : path.replace(/^.*\/dist\/src\/([^/]+(?:\/[^/]+)?)\/.*$/, 'tessera $1').replace(/^.*\/dist\/src\/[^/]+$/, 'tessera (top)');
    const g = groups.get(key) ?? { files: 0, bytes: 0 };
    g.files++;
    try {
      g.bytes += statSync(path).size;
    } catch {
      // gone since
    }
    groups.set(key, g);
  }
  let out = `\nmodules a sidecar loads (${worldName} snapshot, after 1 s of traffic; CommonJS files as the process held them at exit)\n\n| package / folder | files | KiB |\n|---|---:|---:|\n`;
  for (const [k, g] of [...groups].sort((x, y) => y[1].bytes - x[1].bytes)) out += `| ${k} | ${g.files} | ${(g.bytes / 1024).toFixed(0)} |\n`;
  return `${out}\nbuilt-ins imported: ${builtins.sort().join(', ')}\n`;
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
