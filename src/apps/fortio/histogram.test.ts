/** fortio's statistics and its text: buckets, interpolated percentiles, Go number and duration formats, the summary lines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from './duration.js';
import { formatG, formatV } from './go-format.js';
import { Histogram } from './histogram.js';
import type { LoadResult } from './load-runner.js';
import { Counter } from './histogram.js';
import { bannerLines, summaryLines } from './report.js';

/** `count` values spread evenly inside (lo, hi] seconds. */
function fill(h: Histogram, lo: number, hi: number, count: number): void {
  for (let i = 1; i <= count; i++) h.record(lo + ((hi - lo) * i) / (count + 1));
}

describe('fortio histogram', () => {
  it('interpolates a percentile inside its bucket (45 % below 4 ms, 55 % below 5 ms: p50 is 4.5 ms)', () => {
    const h = new Histogram();
    fill(h, 0.0005, 0.001, 9); // 9 in (0, 1ms]
    fill(h, 0.003, 0.004, 36); // up to 45 %
    fill(h, 0.004, 0.005, 10); // up to 55 %
    fill(h, 0.006, 0.014, 45);
    assert.equal(h.count, 100);
    assert.equal(formatG(h.percentile(50), 6), '0.0045');
  });

  it('clips the first bucket to min and the last to max', () => {
    const h = new Histogram();
    h.record(0.0268);
    h.record(0.199);
    const b = h.buckets();
    assert.equal(b[0]!.start, 0.0268);
    assert.equal(b[0]!.end, 0.03);
    assert.equal(b.at(-1)!.start, 0.18);
    assert.equal(b.at(-1)!.end, 0.199);
    assert.ok(Math.abs(h.percentile(99.9) - (0.18 + 0.019 * (49.9 / 50))) < 1e-12);
    assert.equal(h.percentile(100), 0.199);
  });

  it('prints the range lines and the five targets as fortio does', () => {
    const h = new Histogram();
    h.record(0.0015);
    h.record(0.0025);
    const lines = h.lines('Aggregated Function Time', [50, 75, 90, 99, 99.9], true);
    assert.deepEqual(lines, [
      'Aggregated Function Time : count 2 avg 0.002 +/- 0.0005 min 0.0015 max 0.0025 sum 0.004',
      '# range, mid point, percentile, count',
      '>= 0.0015 <= 0.002 , 0.00175 , 50.00, 1',
      '> 0.002 <= 0.0025 , 0.00225 , 100.00, 1',
      '# target 50% 0.002',
      '# target 75% 0.00225',
      '# target 90% 0.0024',
      '# target 99% 0.00249',
      '# target 99.9% 0.002499',
    ]);
  });

  it('values past 100 s land in an overflow bucket ending at max', () => {
    const h = new Histogram();
    h.record(150);
    assert.deepEqual(h.buckets(), [{ start: 150, end: 150, percent: 100, count: 1 }]);
  });
});

describe('Go formats', () => {
  it('%g with a precision, %v of a float', () => {
    assert.equal(formatG(0.0480769230, 6), '0.0480769');
    assert.equal(formatG(0.07, 6), '0.07');
    assert.equal(formatG(17.74169, 5), '17.742');
    assert.equal(formatG(0.00005, 6), '5e-05');
    assert.equal(formatG(0, 6), '0');
    assert.equal(formatV(0.056362442), '0.056362442');
    assert.equal(formatV(2.7336e-5), '2.7336e-05');
  });

  it('durations read and print as Go does', () => {
    assert.equal(parseDuration('1.5s'), 1.5e9);
    assert.equal(parseDuration('1m30s'), 90e9);
    assert.equal(parseDuration('250ms'), 250e6);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('5'), undefined);
    assert.equal(parseDuration('soon'), undefined);
    assert.equal(formatDuration(40.2e6), '40.2ms');
    assert.equal(formatDuration(5636535962), '5.636535962s');
    assert.equal(formatDuration(90e9), '1m30s');
    assert.equal(formatDuration(3600e9), '1h0m0s');
    assert.equal(formatDuration(1500), '1.5µs');
    assert.equal(formatDuration(0), '0s');
  });
});

describe('fortio load text', () => {
  it('the banner names qps, procs, calls and the per-thread split', () => {
    assert.deepEqual(bannerLines({ url: 'http://fortio:8080/echo', qps: 0, threads: 3, calls: 20, durationNs: 5e9, procs: 2 }), [
      'Fortio 1.60.3 running at 0 queries per second, 2->2 procs, for 20 calls: http://fortio:8080/echo',
      'Starting at max qps with 3 thread(s) [gomax 2] for exactly 20 calls (6 per thread + 2)',
    ]);
    assert.equal(bannerLines({ url: 'u', qps: 8, threads: 4, calls: 0, durationNs: 5e9, procs: 2 })[1], 'Starting at 8 qps with 4 thread(s) [gomax 2] for 5s : 10 calls each (total 40 + 0)');
  });

  it('the summary has the Code lines FSM greps, sorted, with one decimal, and the All done line', () => {
    const durations = new Histogram();
    for (let i = 0; i < 20; i++) durations.record(0.002);
    const errors = new Histogram();
    for (let i = 0; i < 7; i++) errors.record(0.002);
    const headerSizes = new Counter();
    const sizes = new Counter();
    const r: LoadResult = {
      elapsedNs: 40e6, calls: 20, warmupCalls: 0, durations, errors, headerSizes, sizes, sockets: 4,
      codes: new Map([[503, 6], [200, 13], [-1, 1]]), peers: new Map([['10.0.0.1:8080', 4]]),
    };
    const lines = summaryLines(r, 2, { quiet: true, sizes: false });
    assert.equal(lines[0], 'Ended after 40ms : 20 calls. qps=500');
    assert.ok(lines.includes('Sockets used: 4 (for perfect keepalive, would be 2)'));
    assert.ok(lines.includes('10.0.0.1:8080: 4'));
    const codes = lines.filter((l) => l.startsWith('Code'));
    assert.deepEqual(codes, ['Code  -1 : 1 (5.0 %)', 'Code 200 : 13 (65.0 %)', 'Code 503 : 6 (30.0 %)']);
    assert.equal(lines.at(-1), 'All done 20 calls (plus 0 warmup) 2.000 ms avg, 500.0 qps');
    assert.ok(!lines.some((l) => l.startsWith('# range')), 'quiet: no ranges');
    assert.ok(lines.includes('# target 99.9% 0.002'));
  });
});
