/**
 * `npm run bench`: what one sidecar hop costs, measured against a direct baseline in the same run.
 *
 * Layout on a 2-core machine (as in ../shared/docs/reference/perf-anchors.md): sidecars pinned to
 * core 0; wrk (one thread), the upstream and ext-auth on core 1. CPU µs/request is a process's CPU
 * time over the requests it served, read from /proc, so it does not depend on wrk's core.
 *
 * Environment: BENCH_SECONDS (default 10), BENCH_WARMUP (default 2), BENCH_CONNECTIONS (default 50),
 * BENCH_PROFILE=DIR (write V8 CPU profiles of the sidecars there), BENCH_JWT=0 (skip the JWT part),
 * BENCH_SCENARIOS=REGEX (run only the data-path scenarios whose name matches), BENCH_STORE=0 (skip the API store part),
 * BENCH_PIPYJS=0 (skip the in-process PipyJS confinement part), BENCH_TRANSPARENT=0 (skip the namespace-mode transparent
 * path, which needs root or rootless namespaces with a /etc/subuid range; skipped with the reason
 * where it is not possible), BENCH_LOGS=0 (skip container logs; BENCH_LOG_BYTES, default 1 GiB),
 * BENCH_CLI=0 (skip how long `tessera` commands take against a running mesh; BENCH_CLI_RUNS, default 20).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { proxyToken } from '../src/local/layout.js';
import { SIDECAR_NODE_FLAGS } from '../src/sidecar/node-flags.js';
import { cpuSeconds, hasCommand, rssMiB, runWrk, spawnPinned, waitForHttp, waitForPort, type WrkResult } from './support.js';
import { runJwtBench } from './jwt.js';
import { pipyConfinementBench } from './pipyjs-confinement.js';
import { storeBench } from './store.js';
import { logsBench } from './container-logs.js';
import { cliStartBenchWithMesh } from './cli-start.js';
import { runTransparentBench, transparentBenchUnavailable } from './transparent.js';
import { BenchDelivery, CLIENT_UUID, SERVER_UUID, addresses, snapshots, world } from './world.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const MESH_KEY = 'ab'.repeat(32);
const TOKEN = '2f1acc6c3a606b082e5eef5e54414ffb';

interface Row {
  scenario: string;
  wrk: WrkResult;
  /** CPU µs per request of each sidecar on the path */
  sidecarCpu: number[];
  rss: number[];
  /** heap used and external (Buffer) memory of each sidecar after the run, MiB */
  heap: string[];
}

const children: ChildProcess[] = [];
function track(c: ChildProcess): ChildProcess {
  children.push(c);
  return c;
}
function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

async function main(): Promise<void> {
  if (!hasCommand('wrk')) {
    process.stderr.write('npm run bench needs wrk (Debian: apt-get install wrk)\n');
    process.exit(2);
  }
  const block = 200 + (process.pid % 50);
  const a = addresses(block);
  const dataRoot = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const delivery = new BenchDelivery();
  await delivery.startCa();
  const worlds = {
    plain: await snapshots(await world(a, { mtls: false })),
    plainLogOff: await snapshots(await world(a, { mtls: false, accessLog: 'off' })),
    plainLogErrors: await snapshots(await world(a, { mtls: false, accessLog: 'errors' })),
    plainTraffic: await snapshots(await world(a, { mtls: false, trafficSetting: true })),
    mtls: await snapshots(await world(a, { mtls: true })),
    retry: await snapshots(await world(a, { mtls: true, retry: true })),
    native: await snapshots(await world(a, { mtls: true, plugins: 'native-injector' })),
    pipy: await snapshots(await world(a, { mtls: true, plugins: 'pipy-injector' })),
    iam: await snapshots(await world(a, { mtls: true, plugins: 'iam' })),
  };
  delivery.publish(worlds.plain);
  await delivery.listen(a.controller, 6060);

  const profile = process.env['BENCH_PROFILE'];
  const profileArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const sidecarMain = fileURLToPath(new URL('../src/sidecar/main.js', import.meta.url));
  const extAuth = join(process.cwd(), 'examples', 'iam', 'ext-auth.mjs');
  const upstreamCode =
    "const b=Buffer.from('x'.repeat(100));require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain','content-length':100});s.end(b)}).listen(+process.env.PORT,process.env.HOST)";

  track(spawnPinned(1, process.execPath, ['-e', upstreamCode], { ...process.env, HOST: a.serverLocal, PORT: '14001' }));
  // the same 100-byte answer over h2c, for the HTTP/2 scenarios (Service h2bin, port name http2)
  const h2UpstreamCode =
    "const b=Buffer.from('x'.repeat(100));require('http2').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain','content-length':100});s.end(b)}).listen(+process.env.PORT,process.env.HOST)";
  track(spawnPinned(1, process.execPath, ['-e', h2UpstreamCode], { ...process.env, HOST: a.serverLocal, PORT: '14002' }));
  track(spawnPinned(1, process.execPath, [extAuth], { ...process.env, HOST: a.authPod, PORT: '8079', ACCEPT_TOKENS: TOKEN }));
  const sidecar = (uuid: string, name: string, ns: string, podIP: string, localIP: string): ChildProcess =>
    track(
      spawnPinned(0, process.execPath, [...SIDECAR_NODE_FLAGS, ...profileArgs, sidecarMain], {
        ...process.env,
        TESSERA_POD_NAME: name,
        TESSERA_POD_NAMESPACE: ns,
        TESSERA_POD_UID: `${name}-uid`,
        TESSERA_POD_IP: podIP,
        TESSERA_LOCAL_IP: localIP,
        TESSERA_SERVICE_ACCOUNT: ns,
        TESSERA_PROXY_UUID: uuid,
        TESSERA_PROXY_TOKEN: proxyToken(MESH_KEY, uuid),
        TESSERA_CONTROLLER_URL: `http://${a.controller}:6060`,
        TESSERA_SIDECAR_DIR: join(dataRoot, name),
        TESSERA_MESH_NAME: 'bench',
      }),
    );
  const naive = track(
    spawnPinned(0, process.execPath, [fileURLToPath(new URL('./naive-proxy.js', import.meta.url))], {
      ...process.env,
      HOST: a.serverPod,
      PORT: '18080',
      UPSTREAM: `${a.serverLocal}:14001`,
    }),
  );
  const client = sidecar(CLIENT_UUID, 'curl-0', 'curl', a.clientPod, a.clientLocal);
  const server = sidecar(SERVER_UUID, 'httpbin-0', 'httpbin', a.serverPod, a.serverLocal);
  const adminOf = new Map([
    [client, `http://${a.clientPod}:15000`],
    [server, `http://${a.serverPod}:15000`],
  ]);
  await waitForPort(a.serverLocal, 14001);
  await waitForPort(a.authPod, 8079);
  await waitForHttp(`http://${a.clientPod}:15000/ready`);
  await waitForHttp(`http://${a.serverPod}:15000/ready`);
  await waitForPort(a.serverPod, 14001);
  await waitForPort(a.serverPod, 18080);

  const rows: Row[] = [];
  const only = process.env['BENCH_SCENARIOS'] ? new RegExp(process.env['BENCH_SCENARIOS']) : undefined;
  const measure = async (scenario: string, url: string, onPath: ChildProcess[], headers: string[] = []): Promise<void> => {
    if (only && !only.test(scenario)) return;
    await runWrk(url, { connections: CONNECTIONS, seconds: WARMUP, core: 1, headers });
    const before = onPath.map((p) => cpuSeconds(p.pid!));
    const wrk = await runWrk(url, { connections: CONNECTIONS, seconds: SECONDS, core: 1, headers });
    const after = onPath.map((p) => cpuSeconds(p.pid!));
    rows.push({
      scenario,
      wrk,
      sidecarCpu: onPath.map((_, i) => ((after[i]! - before[i]!) * 1e6) / wrk.requests),
      rss: onPath.map((p) => rssMiB(p.pid!)),
      heap: await Promise.all(onPath.map((p) => (adminOf.has(p) ? heapOf(adminOf.get(p)!) : Promise.resolve('–')))),
    });
    process.stderr.write(`  ${scenario}: ${Math.round(wrk.rps)} req/s\n`);
  };

  /** The same measurement with HTTP/2 (h2c from the client; bench/h2-load.ts pinned where wrk runs). */
  const h2Load = fileURLToPath(new URL('./h2-load.js', import.meta.url));
  const H2_SESSIONS = Math.max(1, Math.round(CONNECTIONS / 5));
  const measureH2 = async (scenario: string, url: string, authority: string, onPath: ChildProcess[]): Promise<void> => {
    if (only && !only.test(scenario)) return;
    await runH2Load(h2Load, url, authority, H2_SESSIONS, 5, WARMUP);
    const before = onPath.map((p) => cpuSeconds(p.pid!));
    const wrk = await runH2Load(h2Load, url, authority, H2_SESSIONS, 5, SECONDS);
    const after = onPath.map((p) => cpuSeconds(p.pid!));
    rows.push({
      scenario,
      wrk,
      sidecarCpu: onPath.map((_, i) => ((after[i]! - before[i]!) * 1e6) / Math.max(1, wrk.requests)),
      rss: onPath.map((p) => rssMiB(p.pid!)),
      heap: await Promise.all(onPath.map((p) => (adminOf.has(p) ? heapOf(adminOf.get(p)!) : Promise.resolve('–')))),
    });
    process.stderr.write(`  ${scenario}: ${Math.round(wrk.rps)} req/s\n`);
  };

  const host = 'Host: httpbin.httpbin:14001';
  const h2Authority = 'h2bin.httpbin:14002';
  const use = async (w: keyof typeof worlds): Promise<void> => {
    delivery.publish(worlds[w]);
    const deadline = Date.now() + 15_000;
    while (!(delivery.applied(CLIENT_UUID) && delivery.applied(SERVER_UUID))) {
      if (Date.now() > deadline) throw new Error(`sidecars did not apply the ${w} snapshot`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // with mTLS the sidecars also need their certificates before traffic flows
    await waitForHttp(`http://${a.clientPod}:15000/ready`);
    await waitForHttp(`http://${a.serverPod}:15000/ready`);
  };
  process.stderr.write(`benchmarking (${SECONDS}s per scenario after ${WARMUP}s warm-up, ${CONNECTIONS} connections)\n`);
  await use('plain');
  await measure('direct to upstream (baseline)', `http://${a.serverLocal}:14001/get`, []);
  await measure('reference: plain node:http + undici proxy, no chain', `http://${a.serverPod}:18080/get`, [naive]);
  await measure('one sidecar hop (inbound, plaintext)', `http://${a.serverPod}:14001/get`, [server]);
  await measure('mesh path: client sidecar + server sidecar, plaintext', `http://${a.clientLocal}:15001/get`, [client, server], [host]);
  // HTTP/2 beside HTTP/1.1: the load generator differs (bench/h2-load.ts, 5 streams per connection),
  // so compare against the h2 baseline straight to the h2c app, not against wrk's rows
  await measureH2('h2: direct to the h2c upstream (baseline)', `http://${a.serverLocal}:14002/get`, h2Authority, []);
  await measureH2('h2: one sidecar hop (inbound h2c, h2c to the app)', `http://${a.serverPod}:14002/get`, h2Authority, [server]);
  await measureH2('h2: mesh path, h2c between the sidecars (plaintext)', `http://${a.clientLocal}:15001/get`, h2Authority, [client, server]);
  // the access log's cost: the same hop with no line written, and with Istio's error filter run per request
  await use('plainLogOff');
  await measure('one sidecar hop (inbound, plaintext), access log off (Telemetry disabled)', `http://${a.serverPod}:14001/get`, [server]);
  await use('plainLogErrors');
  await measure('one sidecar hop (inbound, plaintext), access-log filter response.code >= 400', `http://${a.serverPod}:14001/get`, [server]);
  await use('plain');
  await measure('one sidecar hop (inbound, plaintext), every line written (again, for drift)', `http://${a.serverPod}:14001/get`, [server]);
  // UpstreamTrafficSetting's cost when its modules run but refuse nothing (no setting: no module at all)
  await use('plainTraffic');
  await measure('mesh path, plaintext, permissive UpstreamTrafficSetting (rate limits, breaker, connection limits)', `http://${a.clientLocal}:15001/get`, [client, server], [host]);
  await use('plain');
  await measure('mesh path, plaintext, no UpstreamTrafficSetting (again, for drift)', `http://${a.clientLocal}:15001/get`, [client, server], [host]);
  await use('mtls');
  await measure('mesh path with mTLS between the sidecars (the default)', `http://${a.clientLocal}:15001/get`, [client, server], [host]);
  await measureH2('h2: mesh path, h2 over mTLS (ALPN) between the sidecars', `http://${a.clientLocal}:15001/get`, h2Authority, [client, server]);
  await use('retry');
  await measure('mesh path (mTLS) + Retry policy (5xx, 3 retries, per-try timeout), nothing failing', `http://${a.clientLocal}:15001/get`, [client, server], [host]);
  await use('native');
  await measure('mesh path (mTLS) + token-injector as a native plugin', `http://${a.clientLocal}:15001/headers`, [client, server], [host]);
  await use('pipy');
  await measure('mesh path (mTLS) + token-injector as a PipyJS plugin (seed script)', `http://${a.clientLocal}:15001/headers`, [client, server], [host]);
  await use('iam');
  await measure('mesh path (mTLS) + IAM plugins, unprotected path (/headers)', `http://${a.clientLocal}:15001/headers`, [client, server], [host]);
  await measure('mesh path (mTLS) + IAM plugins, protected path (/get, ext-auth call per request)', `http://${a.clientLocal}:15001/get`, [client, server], [host]);

  if (process.env['BENCH_TRANSPARENT'] !== '0') {
    const why = await transparentBenchUnavailable();
    if (why) process.stderr.write(`  transparent path skipped: ${why}\n`);
    else {
      // the loopback sidecars leave: the sandboxed ones get the same identities
      client.kill('SIGTERM');
      server.kill('SIGTERM');
      rows.push(...await runTransparentBench({
        addresses: a, delivery, dataRoot, meshKey: MESH_KEY, sidecarMain, upstreamCode, seconds: SECONDS, warmup: WARMUP, connections: CONNECTIONS,
        log: (l) => process.stderr.write(`${l}\n`),
      }));
    }
  }

  delivery.close();
  cleanup();
  rmSync(dataRoot, { recursive: true, force: true });
  process.stdout.write(report(rows));
  if (process.env['BENCH_JWT'] !== '0') {
    process.stderr.write('benchmarking JWT verification\n');
    process.stdout.write(`\n${await runJwtBench({ seconds: 1, rounds: Number(process.env['BENCH_JWT_ROUNDS'] ?? 3) })}\n`);
  }
  if (process.env['BENCH_PIPYJS'] !== '0') {
    process.stderr.write('benchmarking PipyJS confinement\n');
    process.stdout.write(`\n${await pipyConfinementBench()}\n`);
  }
  if (process.env['BENCH_STORE'] !== '0') {
    process.stderr.write('benchmarking the API store\n');
    process.stdout.write(`\n${await storeBench()}\n`);
  }
  if (process.env['BENCH_LOGS'] !== '0') {
    process.stderr.write('benchmarking container logs\n');
    process.stdout.write(`\n${await logsBench()}\n`);
  }
  if (process.env['BENCH_CLI'] !== '0') {
    process.stderr.write('tessera commands against a running mesh…\n');
    process.stdout.write(`\n${await cliStartBenchWithMesh()}\n`);
  }
}

/** Heap used / external memory (MiB) from the sidecar's own Prometheus metrics. */
async function heapOf(admin: string): Promise<string> {
  const text = await (await fetch(`${admin}/stats/prometheus`)).text();
  const metric = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
  return `${metric('tessera_sidecar_nodejs_heap_size_used_bytes').toFixed(0)}/${metric('tessera_sidecar_nodejs_external_memory_bytes').toFixed(0)}`;
}

/** Runs bench/h2-load.js pinned to core 1 (where wrk runs) and reads its one JSON line. */
function runH2Load(script: string, url: string, authority: string, sessions: number, streams: number, seconds: number): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const args = [script, url, authority, String(sessions), String(streams), String(seconds)];
    const child = hasCommand('taskset') ? spawn('taskset', ['-c', '1', process.execPath, ...args]) : spawn(process.execPath, args);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.on('close', () => {
      clearTimeout(guard);
      try {
        resolve(JSON.parse(out.trim()) as WrkResult);
      } catch {
        reject(new Error(`h2-load gave no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

function report(rows: Row[]): string {
  const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '–');
  const base = rows[0]!.wrk.rps;
  let out = `\n| scenario | req/s | vs direct | p50 / p99 ms | sidecar CPU µs/req | sidecar RSS MiB | heap / external MiB | errors / non-2xx |\n|---|---:|---:|---:|---:|---:|---:|---:|\n`;
  for (const r of rows) {
    out += `| ${r.scenario} | ${Math.round(r.wrk.rps)} | ${f(r.wrk.rps / base)}× | ${f(r.wrk.p50ms)} / ${f(r.wrk.p99ms)} | ${
      r.sidecarCpu.length ? r.sidecarCpu.map((c) => f(c, 1)).join(' + ') : '–'
    } | ${r.rss.length ? r.rss.map((m) => f(m, 0)).join(' + ') : '–'} | ${r.heap.length ? r.heap.join(' + ') : '–'} | ${r.wrk.errors} / ${r.wrk.non2xx} |\n`;
  }
  return out;
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  cleanup();
  process.exit(1);
});
