/** Timing for the JWT benchmark: warm-up, interleaved rounds, medians; sync and async operations. */

export type Op = () => unknown;
export type AsyncOp = () => Promise<unknown>;

export interface Contender {
  name: string;
  /** exactly one of op / asyncOp */
  op?: Op;
  asyncOp?: AsyncOp;
}

const BATCH = 64;

/** Operations per second of `c` over about `ms` milliseconds. */
export async function opsPerSecond(c: Contender, ms: number): Promise<number> {
  const budget = BigInt(Math.round(ms * 1e6));
  const start = process.hrtime.bigint();
  let n = 0;
  let elapsed = 0n;
  if (c.op) {
    const op = c.op;
    do {
      for (let i = 0; i < BATCH; i++) op();
      n += BATCH;
      elapsed = process.hrtime.bigint() - start;
    } while (elapsed < budget);
  } else {
    const op = c.asyncOp as AsyncOp;
    do {
      for (let i = 0; i < BATCH; i++) await op();
      n += BATCH;
      elapsed = process.hrtime.bigint() - start;
    } while (elapsed < budget);
  }
  return n / (Number(elapsed) / 1e9);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Warm every contender up, then run `rounds` rounds in which each contender gets `ms / rounds`,
 * interleaved so drift (thermal, other load) hits all of them alike. Returns the per-round samples by name.
 */
export async function compare(contenders: Contender[], ms: number, rounds: number): Promise<Map<string, number[]>> {
  for (const c of contenders) await opsPerSecond(c, Math.max(100, ms * 0.2));
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) samples.get(c.name)!.push(await opsPerSecond(c, ms / rounds));
  }
  return samples;
}

/**
 * Median over rounds of a/b measured in the same round: neighbours in time share the machine's
 * load, so on a busy host this ratio is steadier than a ratio of two medians.
 */
export function medianRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => x / (b[i] as number)));
}
