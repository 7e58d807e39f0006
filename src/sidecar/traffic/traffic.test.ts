/** Unit tests of the pure traffic parts with an injected clock: token bucket, error/slow breaker, connection-pool limits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker, ConcurrencyLimit, TokenBucket, type BreakerEvent } from './index.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBucket', () => {
  it('3 per minute: exactly 3, then none until the minute is over, then 3 again', () => {
    const c = clock();
    const b = new TokenBucket(3, 60, 0, c.now);
    assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
    c.advance(59_999);
    assert.equal(b.take(), false);
    c.advance(1);
    assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
  });

  it('burst adds tokens above the rate; refills never exceed requests + burst', () => {
    const c = clock();
    const b = new TokenBucket(1, 1, 2, c.now);
    assert.equal(b.available(), 3);
    assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
    c.advance(1000);
    assert.equal(b.available(), 1);
    c.advance(10_000);
    assert.equal(b.available(), 3);
  });

  it('zero requests lets nothing through', () => {
    const b = new TokenBucket(0, 60, 0, clock().now);
    assert.equal(b.take(), false);
  });
});

describe('CircuitBreaker', () => {
  const events: BreakerEvent[] = [];
  const make = (cfg: Partial<ConstructorParameters<typeof CircuitBreaker>[0]>, c = clock()) => {
    events.length = 0;
    return { c, b: new CircuitBreaker({ StatTimeWindow: 10, MinRequestAmount: 4, DegradedTimeWindow: 5, ...cfg }, c.now, (e) => events.push(e)) };
  };
  const call = (b: CircuitBreaker, status: number, ms = 1) => {
    b.started();
    b.finished(status, ms);
  };

  it('opens on the error ratio once minRequestAmount requests were seen, answers degraded for the window, then closes', () => {
    const { b, c } = make({ ErrorRatioThreshold: 0.5, DegradedStatusCode: 503, DegradedResponseContent: 'degraded' });
    call(b, 503);
    call(b, 503); // 2 of 2 errors, but fewer than 4 requests
    assert.equal(b.isOpen(), false);
    call(b, 200);
    call(b, 503); // 3 of 4
    assert.equal(b.isOpen(), true);
    assert.deepEqual(events, ['opened']);
    assert.equal(b.lastTrip?.cause, 'error-ratio');
    assert.equal(b.degradedStatus, 503);
    assert.equal(b.degradedBody, 'degraded');
    c.advance(4999);
    assert.equal(b.isOpen(), true);
    c.advance(1);
    assert.equal(b.isOpen(), false);
    assert.deepEqual(events, ['opened', 'closed']);
    // counts start over after closing: one error of one request is under minRequestAmount
    call(b, 503);
    assert.equal(b.isOpen(), false);
  });

  it('opens on the error amount without a minimum; 4xx are not errors', () => {
    const { b } = make({ ErrorAmountThreshold: 2 });
    call(b, 404);
    call(b, 429);
    call(b, 500);
    assert.equal(b.isOpen(), false);
    call(b, 502);
    assert.equal(b.isOpen(), true);
    assert.equal(b.lastTrip?.cause, 'error-amount');
  });

  it('opens on slow answers (amount and ratio); FSM defaults for status and body', () => {
    const { b } = make({ SlowTimeThreshold: 1, SlowAmountThreshold: 2 });
    call(b, 200, 999);
    call(b, 200, 1000);
    assert.equal(b.isOpen(), false);
    call(b, 200, 3000);
    assert.equal(b.isOpen(), true);
    assert.equal(b.lastTrip?.cause, 'slow-amount');
    assert.equal(b.degradedStatus, 409);
    assert.equal(b.degradedBody, 'Coming soon ...');
    const r = make({ SlowTimeThreshold: 1, SlowRatioThreshold: 0.75 });
    for (const ms of [2000, 2000, 10, 2000]) call(r.b, 200, ms);
    assert.equal(r.b.isOpen(), true);
    assert.equal(r.b.lastTrip?.cause, 'slow-ratio');
  });

  it('counts in fixed windows: errors from an old window do not add up', () => {
    const { b, c } = make({ ErrorAmountThreshold: 2 });
    call(b, 500);
    c.advance(10_000);
    call(b, 500);
    assert.equal(b.isOpen(), false);
    call(b, 500);
    assert.equal(b.isOpen(), true);
  });

  it('without thresholds it never opens', () => {
    const { b } = make({});
    for (let i = 0; i < 20; i++) call(b, 503, 60_000);
    assert.equal(b.isOpen(), false);
  });
});

describe('ConcurrencyLimit', () => {
  it('maxConnections 1, maxPendingRequests 1: one goes, one waits, the third overflows; release hands the slot on', async () => {
    const l = new ConcurrencyLimit({ maxConnections: 1, maxPendingRequests: 1 });
    assert.equal(l.admit().kind, 'go');
    const waiting = l.admit();
    assert.equal(waiting.kind, 'wait');
    assert.equal(waiting.kind === 'wait' && waiting.connectionOverflow, true);
    const third = l.admit();
    assert.deepEqual(third, { kind: 'overflow', connectionOverflow: true });
    l.release();
    if (waiting.kind === 'wait') await waiting.ready;
    // the waiting request holds the slot now: another one must wait
    assert.equal(l.admit().kind, 'wait');
  });

  it('maxRequests binds without a connection overflow; no limits is unlimited', () => {
    const l = new ConcurrencyLimit({ maxConnections: 10, maxRequests: 1, maxPendingRequests: 0 });
    assert.equal(l.admit().kind, 'go');
    assert.deepEqual(l.admit(), { kind: 'overflow', connectionOverflow: false });
    assert.equal(new ConcurrencyLimit({}).unlimited, true);
  });
});
