/** fortio's echo parameters: status/delay/size distributions, caps, malformed input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ECHO_LIMITS, parseDelay, parseSize, parseStatus, pick, planEcho } from './echo-params.js';

const plan = (query: string, draws: number[] = [0.5]) => {
  let i = 0;
  return planEcho(new URLSearchParams(query), DEFAULT_ECHO_LIMITS, () => draws[i++ % draws.length]!);
};

describe('fortio echo parameters', () => {
  it('reads a bare code as always, and CODE:PERCENT lists in order', () => {
    assert.deepEqual(parseStatus('503'), [{ value: 503, percent: 100 }]);
    assert.deepEqual(parseStatus('503:50,429:10.5'), [{ value: 503, percent: 50 }, { value: 429, percent: 10.5 }]);
  });

  it('picks by cumulative share; the rest of the share is the default', () => {
    const entries = parseStatus('503:50,429:10');
    assert.equal(pick(entries, 0), 503);
    assert.equal(pick(entries, 49.99), 503);
    assert.equal(pick(entries, 50), 429);
    assert.equal(pick(entries, 59.99), 429);
    assert.equal(pick(entries, 60), undefined);
  });

  it('status=503:50 answers 503 for draws under half and 200 above', () => {
    assert.equal(plan('status=503:50', [0.2]).plan.status, 503);
    assert.equal(plan('status=503:50', [0.7]).plan.status, 200);
    assert.equal(plan('status=429').plan.status, 429);
  });

  it('a malformed status answers 400 and says which parameter was wrong', () => {
    const r = plan('status=abc:50');
    assert.equal(r.plan.status, 400);
    assert.match(r.warnings[0]!, /^bad status=abc:50/);
    assert.equal(plan('status=503:150').plan.status, 400, 'a share over 100 %');
    assert.equal(plan('status=503:').plan.status, 400, 'a missing share');
  });

  it('delays are Go durations, drawn by share and capped at the max echo delay (1.5s)', () => {
    assert.deepEqual(parseDelay('250ms:10,2s:5'), [{ value: 250e6, percent: 10 }, { value: 2e9, percent: 5 }]);
    assert.equal(plan('delay=250ms:10', [0.05]).plan.delayNs, 250e6);
    assert.equal(plan('delay=250ms:10', [0.5]).plan.delayNs, 0);
    const capped = plan('delay=2s:50', [0.1]).plan;
    assert.equal(capped.delayNs, 1.5e9);
    assert.equal(capped.delayCapped, true);
  });

  it('a malformed delay or size is ignored with a warning, the call still answers', () => {
    const r = plan('delay=soon&size=big');
    assert.equal(r.plan.delayNs, 0);
    assert.equal(r.plan.size, undefined);
    assert.equal(r.plan.status, 200);
    assert.equal(r.warnings.length, 2);
  });

  it('size is capped at the max payload size; header adds response headers; close asks for Connection: close', () => {
    assert.deepEqual(parseSize('1024:50'), [{ value: 1024, percent: 50 }]);
    assert.equal(plan('size=10000000').plan.size, 256 * 1024);
    const r = plan('header=X-Test:one&header=X-Other: two&close=true').plan;
    assert.deepEqual(r.headers, [['X-Test', 'one'], ['X-Other', 'two']]);
    assert.equal(r.close, true);
  });

  it('status and delay draw independently', () => {
    const r = plan('status=503:50&delay=1s:50', [0.1, 0.9]).plan;
    assert.equal(r.status, 503);
    assert.equal(r.delayNs, 0);
  });
});
