/**
 * fortio's statistics: a counter (count, avg, stddev, min, max, sum) and a latency histogram over
 * fortio's fixed bucket edges (milliseconds: by 1 up to 11, then 2, 5, 10 … up to 100 s), with
 * percentiles interpolated linearly inside a bucket and the outer buckets clipped to min and max.
 */
import { formatG, formatV } from './go-format.js';

/** Bucket upper edges in units of 1 ms, as fortio's default histogram (offset 0, resolution 0.001). */
export const BUCKET_EDGES_MS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100,
  120, 140, 160, 180, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000,
  2000, 3000, 4000, 5000, 7500, 10000, 20000, 30000, 40000, 50000, 75000, 100000,
];

export class Counter {
  count = 0;
  sum = 0;
  sumOfSquares = 0;
  min = 0;
  max = 0;

  record(value: number): void {
    if (this.count === 0 || value < this.min) this.min = value;
    if (this.count === 0 || value > this.max) this.max = value;
    this.count++;
    this.sum += value;
    this.sumOfSquares += value * value;
  }

  get avg(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  get stdDev(): number {
    if (this.count === 0) return 0;
    const variance = this.sumOfSquares / this.count - this.avg * this.avg;
    return variance > 0 ? Math.sqrt(variance) : 0;
  }

  /** `TITLE : count N avg A +/- S min M max X sum T`, or `TITLE : no data`. */
  line(title: string): string {
    if (this.count === 0) return `${title} : no data`;
    // 12 significant digits: nanosecond sums in seconds, without the last-bit noise of adding floats
    const v = (x: number): string => formatV(Number(x.toPrecision(12)));
    return `${title} : count ${this.count} avg ${v(this.avg)} +/- ${formatG(this.stdDev, 4)} min ${v(this.min)} max ${v(this.max)} sum ${v(this.sum)}`;
  }
}

export interface Bucket {
  start: number;
  end: number;
  /** cumulative percentage of all values up to and including this bucket */
  percent: number;
  count: number;
}

export class Histogram extends Counter {
  readonly #counts = new Array<number>(BUCKET_EDGES_MS.length + 1).fill(0);

  override record(seconds: number): void {
    super.record(seconds);
    this.#counts[bucketIndex(seconds)]!++;
  }

  /** The non-empty buckets, the first starting at min and the last ending at max. */
  buckets(): Bucket[] {
    const out: Bucket[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      const count = this.#counts[i]!;
      if (count === 0) continue;
      cumulative += count;
      const start = out.length === 0 ? this.min : i === 0 ? 0 : BUCKET_EDGES_MS[i - 1]! / 1000;
      const end = cumulative === this.count ? this.max : BUCKET_EDGES_MS[i]! / 1000;
      out.push({ start, end, percent: (100 * cumulative) / this.count, count });
    }
    return out;
  }

  /** The value below which `percentile`% of the values fall, interpolated inside its bucket. */
  percentile(percentile: number): number {
    if (this.count === 0) return 0;
    if (percentile >= 100) return this.max;
    if (percentile <= 0) return this.min;
    let previousPercent = 0;
    for (const b of this.buckets()) {
      if (percentile <= b.percent) return b.start + ((percentile - previousPercent) / (b.percent - previousPercent)) * (b.end - b.start);
      previousPercent = b.percent;
    }
    return this.max;
  }

  /** fortio's histogram block: the counter line, the ranges, then `# target P% V` per percentile. */
  lines(title: string, percentiles: readonly number[], withRanges: boolean): string[] {
    const out = [this.line(title)];
    if (this.count === 0) return out;
    if (withRanges) {
      out.push('# range, mid point, percentile, count');
      this.buckets().forEach((b, i) => {
        out.push(`${i === 0 ? '>=' : '>'} ${formatG(b.start, 6)} <= ${formatG(b.end, 6)} , ${formatG((b.start + b.end) / 2, 6)} , ${b.percent.toFixed(2)}, ${b.count}`);
      });
    }
    for (const p of percentiles) out.push(`# target ${formatG(p, 6)}% ${formatG(this.percentile(p), 6)}`);
    return out;
  }
}

/** Index of the bucket holding `seconds`: buckets are (previous edge, edge]; past the last edge is the overflow bucket. */
function bucketIndex(seconds: number): number {
  const ms = seconds * 1000;
  let lo = 0;
  let hi = BUCKET_EDGES_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= BUCKET_EDGES_MS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
