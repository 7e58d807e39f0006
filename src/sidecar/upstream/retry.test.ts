/** Retry decisions and backoff, with injected randomness. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryOn, type RetryOn } from '../../api/retry-on.js';
import { MeshError } from '../../lib/errors.js';
import { backoffMs, classifyUpstreamError, compileRetryPolicy, retriable, type AttemptOutcome } from './retry.js';

const on = (text: string): RetryOn => {
  const r = parseRetryOn(text);
  assert.ok(!('invalid' in r), text);
  return r;
};
const status = (s: number): AttemptOutcome => ({ kind: 'response', status: s });

describe('retriable', () => {
  it('5xx: every 5xx answer, connect failures, resets and per-try timeouts; nothing else', () => {
    const p = on('5xx');
    for (const s of [500, 502, 503, 504, 599]) assert.ok(retriable(p, status(s)), String(s));
    for (const s of [200, 404, 409, 429]) assert.ok(!retriable(p, status(s)), String(s));
    for (const kind of ['connect-failure', 'reset', 'per-try-timeout'] as const) assert.ok(retriable(p, { kind }), kind);
  });

  it('gateway-error: 502, 503, 504, connect failures and per-try timeouts, not 500 nor resets', () => {
    const p = on('gateway-error');
    for (const s of [502, 503, 504]) assert.ok(retriable(p, status(s)));
    assert.ok(!retriable(p, status(500)));
    assert.ok(retriable(p, { kind: 'connect-failure' }));
    assert.ok(retriable(p, { kind: 'per-try-timeout' }));
    assert.ok(!retriable(p, { kind: 'reset' }));
  });

  it('reset, connect-failure, retriable-4xx (409) and specific codes each cover only their case', () => {
    assert.ok(retriable(on('reset'), { kind: 'reset' }) && !retriable(on('reset'), status(503)) && !retriable(on('reset'), { kind: 'connect-failure' }));
    assert.ok(retriable(on('connect-failure'), { kind: 'connect-failure' }) && !retriable(on('connect-failure'), { kind: 'reset' }));
    assert.ok(retriable(on('retriable-4xx'), status(409)) && !retriable(on('retriable-4xx'), status(404)));
    assert.ok(retriable(on('503'), status(503)) && !retriable(on('503'), status(500)) && !retriable(on('503'), { kind: 'reset' }));
    assert.ok(retriable(on('4xx'), status(404)) && retriable(on('4xx'), status(429)) && !retriable(on('4xx'), status(503)));
    assert.ok(!retriable(on('refused-stream'), status(503)));
  });

  it('unknown tokens are named', () => {
    assert.deepEqual(parseRetryOn('5xx, oops'), { invalid: 'oops' });
    assert.deepEqual(parseRetryOn('6xx'), { invalid: '6xx' });
  });
});

describe('backoffMs', () => {
  it("is uniform in [0, (2^N - 1) x base], capped at 10 x base (Envoy's jittered exponential)", () => {
    const top = (n: number, base: number) => backoffMs(n, base, () => 0.999999);
    assert.equal(top(1, 100), 99);
    assert.equal(top(2, 100), 299);
    assert.equal(top(3, 100), 699);
    assert.equal(top(4, 100), 999, 'capped at 10x');
    assert.equal(top(40, 100), 999);
    assert.equal(backoffMs(3, 100, () => 0), 0);
    assert.equal(backoffMs(2, 100, () => 0.5), 150);
  });
});

describe('compileRetryPolicy', () => {
  it('reads the snapshot shape (seconds) with defaults, and refuses what it cannot use', () => {
    const p = compileRetryPolicy({ RetryOn: '5xx', PerTryTimeout: 1.5, NumRetries: 3, RetryBackoffBaseInterval: 0.01 });
    assert.equal(p?.perTryTimeoutMs, 1500);
    assert.equal(p?.numRetries, 3);
    assert.equal(p?.backoffBaseMs, 10);
    const d = compileRetryPolicy({ RetryOn: '5xx' });
    assert.equal(d?.numRetries, 1);
    assert.equal(d?.backoffBaseMs, 25);
    assert.equal(d?.perTryTimeoutMs, undefined);
    assert.equal(compileRetryPolicy({ RetryOn: 'nope' }), undefined);
    assert.equal(compileRetryPolicy(undefined), undefined);
  });
});

describe('classifyUpstreamError', () => {
  it('tells connect failures from resets by the pool\'s errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.equal(classifyUpstreamError(new MeshError('MESH_ERR_UPSTREAM', 'upstream 10.0.0.1:80 failed: ECONNREFUSED', { cause: refused })), 'connect-failure');
    assert.equal(classifyUpstreamError(new MeshError('MESH_ERR_TIMEOUT', 'connect to 10.0.0.1:80 timed out')), 'connect-failure');
    assert.equal(classifyUpstreamError(new MeshError('MESH_ERR_UPSTREAM', 'upstream 10.0.0.1:80 closed the connection')), 'reset');
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    assert.equal(classifyUpstreamError(new MeshError('MESH_ERR_UPSTREAM', 'upstream 10.0.0.1:80 failed: ECONNRESET', { cause: reset })), 'reset');
  });
});
