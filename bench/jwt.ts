/**
 * JWT verification throughput on one core: Tessera's verifier next to the raw node:crypto check (the
 * physical limit), jose and fast-jwt, plus the cost of a repeated token through the verified-token
 * cache. `runJwtBench` returns a markdown table; `node dist/bench/jwt.js` prints it.
 */
import { createHmac, timingSafeEqual, verify } from 'node:crypto';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createVerifier } from 'fast-jwt';
import { importJWK, jwtVerify } from 'jose';
import { compileJwks, compileJwtPolicy, verifyJwt } from '../src/authn/index.js';
import { BENCH_AUDIENCE, BENCH_ISSUER, makeFixtures, type AlgFixture } from './jwt-fixtures.js';
import { compare, median, medianRatio, type Contender } from './jwt-measure.js';

export interface JwtBenchOptions {
  /** measured seconds per contender and algorithm, split over the rounds (default 2) */
  seconds?: number;
  /** interleaved rounds; the table reports medians (default 7) */
  rounds?: number;
}

interface Row {
  alg: string;
  /** medians, operations per second */
  raw: number;
  ours: number;
  jose: number;
  fastJwt: number;
  /** medians of per-round ratios to raw */
  oursRatio: number;
  joseRatio: number;
  fastJwtRatio: number;
}

export async function runJwtBench(opts: JwtBenchOptions = {}): Promise<string> {
  const ms = (opts.seconds ?? 2) * 1000;
  const rounds = opts.rounds ?? 7;
  const nowMs = Date.now();
  const nowSec = Math.floor(nowMs / 1000);
  const fixtures = makeFixtures(nowSec);
  const rows: Row[] = [];
  for (const f of fixtures) rows.push(await benchAlgorithm(f, ms, rounds, nowMs));
  const cachedUs = await benchCached(fixtures[0] as AlgFixture, ms, rounds, nowMs);
  return render(rows, cachedUs, ms, rounds);
}

async function benchAlgorithm(f: AlgFixture, ms: number, rounds: number, nowMs: number): Promise<Row> {
  const n = f.tokens.length;
  const keys = compileJwks({ keys: [f.jwk] });
  // Cache off: every call is a full verification.
  const policy = compileJwtPolicy({ issuer: BENCH_ISSUER, audiences: [BENCH_AUDIENCE], keys, cache: false });
  const joseKey = await importJWK({ ...f.jwk, alg: f.alg }, f.alg);
  const fast = createVerifier({ key: f.fastJwtKey, algorithms: [f.alg], allowedIss: BENCH_ISSUER, allowedAud: BENCH_AUDIENCE, cache: false });

  let i = 0;
  const rawOp: Contender = f.alg === 'HS256'
    ? { name: 'raw', op: () => { const k = i++ % n; return timingSafeEqual(createHmac('sha256', f.verifyKey).update(f.signingInputs[k]!).digest(), f.signatures[k]!); } }
    : f.alg === 'ES256'
      ? { name: 'raw', op: () => { const k = i++ % n; return verify('sha256', f.signingInputs[k]!, { key: f.verifyKey, dsaEncoding: 'ieee-p1363' }, f.signatures[k]!); } }
      : { name: 'raw', op: () => { const k = i++ % n; return verify('sha256', f.signingInputs[k]!, f.verifyKey, f.signatures[k]!); } };
  const contenders: Contender[] = [
    rawOp,
    { name: 'ours', op: () => { const r = verifyJwt(f.tokens[i++ % n]!, policy, nowMs); if (!r.ok) throw new Error(`bench token rejected: ${r.code}`); return r; } },
    { name: 'jose', asyncOp: () => jwtVerify(f.tokens[i++ % n]!, joseKey, { algorithms: [f.alg], issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE }) },
    { name: 'fast-jwt', op: () => fast(f.tokens[i++ % n]!) },
  ];
  const m = await compare(contenders, ms, rounds);
  const [raw, ours, jose, fastJwt] = ['raw', 'ours', 'jose', 'fast-jwt'].map((name) => m.get(name)!) as [number[], number[], number[], number[]];
  return {
    alg: f.alg, raw: median(raw), ours: median(ours), jose: median(jose), fastJwt: median(fastJwt),
    oursRatio: medianRatio(ours, raw), joseRatio: medianRatio(jose, raw), fastJwtRatio: medianRatio(fastJwt, raw),
  };
}

/** µs per verification of one repeated token through the verified-token cache (median of rounds). */
async function benchCached(f: AlgFixture, ms: number, rounds: number, nowMs: number): Promise<number> {
  const policy = compileJwtPolicy({ issuer: BENCH_ISSUER, audiences: [BENCH_AUDIENCE], keys: compileJwks({ keys: [f.jwk] }) });
  // A header arrives as a fresh string per request; copy it so V8's cached string hash does not flatter us.
  const token = f.tokens[0]!;
  const m = await compare([{ name: 'cached', op: () => verifyJwt((' ' + token).slice(1), policy, nowMs) }], ms, rounds);
  return 1e6 / median(m.get('cached')!);
}

function render(rows: Row[], cachedUs: number, ms: number, rounds: number): string {
  const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
  const pct = (ratio: number) => `${(100 * ratio).toFixed(0)}%`;
  const lines = [
    `JWT verification, one core (Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}; ${rounds} interleaved rounds of ${(ms / rounds / 1000).toFixed(2)} s, medians; 64 distinct tokens cycled, token cache off except in the last table).`,
    '',
    '| algorithm | raw node:crypto verify /s | Tessera verifyJwt /s | Tessera / raw | jose /s | fast-jwt /s |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.alg} | ${k(r.raw)} | ${k(r.ours)} | ${pct(r.oursRatio)} | ${k(r.jose)} (${pct(r.joseRatio)}) | ${k(r.fastJwt)} (${pct(r.fastJwtRatio)}) |`),
    '',
    'Percentages are medians of per-round ratios to the raw rate of the same round. jose verifies through WebCrypto (async, on the libuv pool), awaited one at a time.',
    '',
    `| repeated token through the verified-token cache | ${cachedUs.toFixed(2)} µs per verification (${k(1e6 / cachedUs)}/s) |`,
    '|---|---:|',
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = process.env['BENCH_SECONDS'] ? Number(process.env['BENCH_SECONDS']) : undefined;
  process.stdout.write(await runJwtBench(seconds === undefined ? {} : { seconds }));
}
