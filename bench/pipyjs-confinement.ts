/**
 * What confining PipyJS scripts costs per request, in process (issue #20 item 1), and what the
 * alternative would cost at the least:
 * - the confined runtime as shipped: a plugin-like script (reads headers and a context variable,
 *   looks the route up in a URLRouter and a Cache, sets a header) run through a real Codebase;
 * - a worker-thread design's floor: one request head and one answer head through a MessageChannel
 *   to a worker and back (structured clone both ways), running no script at all;
 * - the membrane's own share: the same script's work done by host code on the same objects.
 * Interleaved rounds, medians; every loop is bounded by its count.
 * Run alone: `node dist/bench/pipyjs-confinement.js` after a build.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Codebase, Context, Message, compileScript, type Link } from '../src/pipyjs/index.js';

const SCRIPT = `pipy({ _count: 0, _router: new algo.URLRouter({ '/headers': 'headers', '/get': 'get', '/*': 'other' }), _tokens: new algo.Cache(() => '2f1acc6c3a606b082e5eef5e54414ffb') })
.pipeline()
.handleMessageStart(msg => {
  _count++;
  const h = msg.head.headers;
  const route = _router.find(h.host, msg.head.path);
  if (route !== 'other' && h['user-agent']) h['x-iam-token'] = _tokens.get(route);
})
.chain()`;

const REST: Link = { call: () => new Message({ status: 200, headers: { 'content-type': 'text/plain' } }, 'ok') };

function request(): Message {
  return new Message({ protocol: 'HTTP/1.1', method: 'GET', path: '/headers', headers: { host: 'httpbin.httpbin:14001', 'user-agent': 'curl/8', accept: '*/*' } }, '');
}

async function confinedRun(n: number): Promise<number> {
  const cb = new Codebase({ log: () => {}, transport: { request: () => Promise.resolve(new Message({ status: 200 })) }, idleTimeoutMs: 1000 });
  const m = cb.load('plugins/bench.js', compileScript('plugins/bench.js', SCRIPT));
  cb.bind();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const out = await cb.runEntry(m, request(), new Context(), REST);
    if (!(out instanceof Message)) throw new Error('the bench script gave no message');
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

/** The script's work as host code: what the runtime would cost with no realm and no membrane. */
async function hostRun(n: number): Promise<number> {
  const routes: Record<string, string> = { '/headers': 'headers', '/get': 'get' };
  const tokens = new Map<string, string>();
  let count = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const msg = request();
    count++;
    const h = msg.head.headers as Record<string, string>;
    const route = routes[msg.head.path as string] ?? 'other';
    if (route !== 'other' && h['user-agent']) {
      let t = tokens.get(route);
      if (t === undefined) tokens.set(route, (t = '2f1acc6c3a606b082e5eef5e54414ffb'));
      h['x-iam-token'] = t;
    }
    const out = await Promise.resolve(REST.call(msg, undefined as never));
    if (!(out instanceof Message)) throw new Error('no message');
  }
  if (count !== n) throw new Error('lost requests');
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

const WORKER_SOURCE = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (head) => parentPort.postMessage({ status: 200, headers: { 'content-type': 'text/plain', 'x-seen': String(head.path) } }));`;

/** A worker design's floor: the head there and an answer back, one request at a time. */
async function workerRun(n: number): Promise<number> {
  const w = new Worker(WORKER_SOURCE, { eval: true, env: {} });
  try {
    await new Promise<void>((resolve) => {
      w.once('message', () => resolve());
      w.postMessage({ path: '/warm' });
    });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const head = request().head as object;
      await new Promise<void>((resolve) => {
        w.once('message', () => resolve());
        w.postMessage(head);
      });
    }
    return Number(process.hrtime.bigint() - t0) / 1000 / n;
  } finally {
    await w.terminate();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function pipyConfinementBench(opts: { requests?: number; rounds?: number } = {}): Promise<string> {
  const n = opts.requests ?? 20_000;
  const rounds = opts.rounds ?? 5;
  const confined: number[] = [];
  const host: number[] = [];
  const worker: number[] = [];
  await confinedRun(2_000);
  await hostRun(2_000);
  for (let r = 0; r < rounds; r++) {
    confined.push(await confinedRun(n));
    host.push(await hostRun(n));
    worker.push(await workerRun(Math.min(n, 5_000)));
  }
  const f = (x: number): string => x.toFixed(2);
  return [
    `PipyJS confinement, in process (Node ${process.version}; ${rounds} interleaved rounds, medians; ${n} requests per round, the worker ${Math.min(n, 5_000)}):`,
    '',
    '| per request | µs |',
    '|---|---:|',
    `| plugin-like script in the confined runtime (realm + membrane), whole pipeline | ${f(median(confined))} |`,
    `| the same work as host code, no runtime (floor) | ${f(median(host))} |`,
    `| worker-thread floor: head to a worker and an answer back, no script run | ${f(median(worker))} |`,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void pipyConfinementBench().then((t) => process.stdout.write(`${t}\n`));
}
