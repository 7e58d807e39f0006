/**
 * The local store at N = 100, 1,000 and 10,000 Pod-like objects: listing a kind, reading one object,
 * and one write (a put that changes an annotation) into a store that already holds N, with
 * synchronous=FULL (the default) and NORMAL. Beside them, what the same operations would cost an
 * in-memory cache (a structuredClone per object handed out) and the old whole-file store (rewrite
 * and fsync all N objects per write), so the choices in sqlite-store.ts can be checked.
 * `storeBench` returns a markdown table; `node dist/bench/store.js` prints it.
 */
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Resource } from '../src/api/types.js';
import { openStore, type ResourceStore } from '../src/local/store/index.js';

export interface StoreBenchOptions {
  sizes?: number[];
  /** time budget per measured operation and size, ms (default 400) */
  budgetMs?: number;
}

interface Timing {
  /** wall clock, ms */
  median: number;
  p90: number;
  /** this process's CPU time (user + system) per run, ms: what the operation costs on a shared, busy machine */
  cpu: number;
  n: number;
}

/** Runs `fn` until `budgetMs` passed or `max` runs, at least 3. */
function measure(fn: (i: number) => void, budgetMs: number, max = 2000): Timing {
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < max && (times.length < 3 || performance.now() < end); i++) {
    const t0 = performance.now();
    fn(i);
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)]!, p90: times[Math.floor(times.length * 0.9)]!,
    cpu: (cpu.user + cpu.system) / 1000 / times.length, n: times.length,
  };
}

/** A Pod as the runner writes it: labels, annotations, one container with env and ports, a status. */
function pod(i: number): Resource {
  const name = `web-7d9f8c6b5-${i.toString(36).padStart(5, '0')}`;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: `ns-${i % 10}`,
      labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5', 'fsm-proxy-uuid': `0b7c${i.toString(16).padStart(4, '0')}-5c2e-4d7a-9a8e-1f2d3c4b5a69` },
      annotations: { 'tessera.io/local-command': 'node server.js --port 8080', 'prometheus.io/scrape': 'true' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8c6b5', uid: '3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b', controller: true }],
    },
    spec: {
      serviceAccountName: 'web',
      containers: [{
        name: 'app', image: 'example/web:1.4.2', command: ['node', 'server.js'],
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [{ name: 'PORT', value: '8080' }, { name: 'LOG_LEVEL', value: 'info' }, { name: 'UPSTREAM', value: 'http://api.ns-0.svc:9090' }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
      }],
    },
    status: {
      phase: 'Running', podIP: `127.9.${1 + Math.floor(i / 254) % 63}.${1 + (i % 254)}`, startTime: '2025-01-01T00:00:00Z',
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' },
        { type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:01Z' },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: '2025-01-01T00:00:01Z' },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' },
      ],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'example/web:1.4.2', state: { running: { startedAt: '2025-01-01T00:00:01Z' } } }],
    },
  };
}

function fill(store: ResourceStore, n: number): void {
  for (let from = 0; from < n; from += 1000) {
    store.transact(Array.from({ length: Math.min(1000, n - from) }, (_, k) => ({ op: 'put' as const, object: pod(from + k) })));
  }
}

function touch(store: ResourceStore, n: number, i: number): void {
  const object = pod((i * 7919) % n);
  object.metadata.annotations = { ...object.metadata.annotations, 'bench/write': String(i) };
  store.transact([{ op: 'put', object }]);
}

/** What the old store paid per write: serialise every object, write a temp file, fsync, rename. */
function wholeFileRewrite(dir: string, objects: Resource[], revision: number): void {
  const file = join(dir, 'store.json');
  const temp = `${file}.tmp`;
  const data = Buffer.from(JSON.stringify({ version: 1, revision, objects }));
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

function dbBytes(dir: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(join(dir, `store.db${suffix}`)).size;
    } catch {
      // no WAL file yet
    }
  }
  return total;
}

export async function storeBench(opts: StoreBenchOptions = {}): Promise<string> {
  const sizes = opts.sizes ?? [100, 1000, 10_000];
  const budget = opts.budgetMs ?? 400;
  const root = mkdtempSync(join(tmpdir(), 'tessera-store-bench-'));
  const num = (v: number) => (v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0));
  // Reads are CPU-bound: their CPU time is the figure that survives a busy machine. Writes wait
  // for fsync: wall time (median, p90) is what a caller waits, CPU time what it costs the daemon.
  const read = (t: Timing) => `${num(t.cpu)} (${num(t.median)})`;
  const write = (t: Timing) => `${num(t.median)} / ${num(t.p90)} (${num(t.cpu)})`;
  const rows: string[] = [];
  const podBytes = JSON.stringify(pod(0)).length;
  try {
    for (const n of sizes) {
      const dir = join(root, `full-${n}`);
      const store = openStore(dir, { compactEvery: 0 });
      fill(store, n);
      const list = measure(() => store.list('Pod'), budget, 50);
      const get = measure((i) => store.get({ kind: 'Pod', namespace: `ns-${i % 10}`, name: pod((i * 31) % n).metadata.name }), budget);
      const writeFull = measure((i) => touch(store, n, i), budget, 500);
      const bytes = dbBytes(dir);
      store.close();

      const normalDir = join(root, `normal-${n}`);
      const normal = openStore(normalDir, { compactEvery: 0, synchronous: 'NORMAL' });
      fill(normal, n);
      const writeNormal = measure((i) => touch(normal, n, i), budget, 2000);
      normal.close();

      // An in-memory cache must hand out copies too (callers mutate what they get).
      const cache = new Map(Array.from({ length: n }, (_, i) => [i, pod(i)]));
      const cacheList = measure(() => [...cache.values()].map((o) => structuredClone(o)), budget, 50);
      const cacheGet = measure((i) => structuredClone(cache.get((i * 31) % n)), budget);

      const oldDir = join(root, `json-${n}`);
      const all = [...cache.values()];
      mkdirSync(oldDir);
      const oldWrite = measure((i) => wholeFileRewrite(oldDir, all, i), budget, 200);

      rows.push(
        `| ${n.toLocaleString('en-US')} | ${read(list)} | ${read(cacheList)} | ${read(get)} | ${read(cacheGet)} | ${write(writeFull)} | ${write(writeNormal)} | ${write(oldWrite)} | ${(bytes / 1024 / 1024).toFixed(1)} |`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return [
    `Local store, Pod-like objects of ${podBytes} bytes of JSON (Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${tmpdir()}, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores); each operation repeated for up to ${budget} ms.`,
    'Reads: CPU ms per operation (wall median). Writes: wall ms median / p90 (CPU ms per write). A cache must hand out structuredClones, as the old store did.',
    '',
    '| objects | list all Pods | list via an in-memory cache | get one | get via a cache | write one, synchronous=FULL | write one, NORMAL | old store.json rewrite per write | store.db + WAL MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(await storeBench());
}
