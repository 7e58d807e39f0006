/** The outlier-detection state machine, on an injected clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutlierTracker, compileOutlierSettings, type OutlierSettings } from './outlier.js';

const settings = (over: Partial<OutlierSettings> = {}): OutlierSettings => ({
  consecutive5xx: 3,
  consecutiveGatewayFailure: 5,
  baseEjectionMs: 1000,
  maxEjectionMs: 2500,
  maxEjectionPercent: 50,
  ...over,
});
const fail = { kind: 'response', status: 500 } as const;
const ok = { kind: 'response', status: 200 } as const;

describe('OutlierTracker', () => {
  it('ejects after N consecutive 5xx, for base x ejections, capped; a success in between resets the count', () => {
    const t = new OutlierTracker(settings());
    t.record('a', fail, 4, 0);
    t.record('a', fail, 4, 0);
    t.record('a', ok, 4, 0);
    t.record('a', fail, 4, 0);
    t.record('a', fail, 4, 0);
    assert.equal(t.isEjected('a', 0), false, 'the success reset the streak');
    assert.deepEqual(t.record('a', fail, 4, 0), { ejected: 'a', cause: 'consecutive_5xx' });
    assert.equal(t.active, 1);
    assert.equal(t.isEjected('a', 999), true);
    assert.equal(t.isEjected('a', 1000), false, 'first ejection: 1 x base');
    assert.equal(t.active, 0);
    for (let i = 0; i < 3; i++) t.record('a', fail, 4, 1000);
    assert.equal(t.isEjected('a', 2999), true, 'second ejection: 2 x base');
    assert.equal(t.isEjected('a', 3000), false);
    for (let i = 0; i < 3; i++) t.record('a', fail, 4, 3000);
    assert.equal(t.isEjected('a', 5499), true, 'third: 3 x base capped at 2500');
    assert.equal(t.isEjected('a', 5500), false);
  });

  it('connect failures and resets count as 5xx; consecutive gateway failures eject on their own threshold', () => {
    const t = new OutlierTracker(settings({ consecutive5xx: 0, consecutiveGatewayFailure: 2 }));
    t.record('a', { kind: 'response', status: 500 }, 4, 0);
    t.record('a', { kind: 'response', status: 500 }, 4, 0);
    assert.equal(t.isEjected('a', 0), false, '500 is not a gateway error');
    t.record('b', { kind: 'connect-failure' }, 4, 0);
    assert.deepEqual(t.record('b', { kind: 'response', status: 503 }, 4, 0), { ejected: 'b', cause: 'consecutive_gateway_failure' });
  });

  it('never ejects more than maxEjectionPercent (at least one), never all, never a lone endpoint, nothing at 0%', () => {
    const two = new OutlierTracker(settings({ consecutive5xx: 1 }));
    assert.deepEqual(two.record('a', fail, 2, 0), { ejected: 'a', cause: 'consecutive_5xx' });
    assert.deepEqual(two.record('b', fail, 2, 0), {}, 'the last healthy endpoint stays');
    assert.equal(two.active, 1);
    const lone = new OutlierTracker(settings({ consecutive5xx: 1 }));
    assert.deepEqual(lone.record('a', fail, 1, 0), {});
    const ten = new OutlierTracker(settings({ consecutive5xx: 1, maxEjectionPercent: 20 }));
    for (const ep of ['a', 'b', 'c']) ten.record(ep, fail, 10, 0);
    assert.equal(ten.active, 2, '20% of 10');
    const none = new OutlierTracker(settings({ consecutive5xx: 1, maxEjectionPercent: 0 }));
    assert.deepEqual(none.record('a', fail, 10, 0), {});
  });

  it('reports endpoints whose ejection ran out, and forgets endpoints the cluster lost', () => {
    const t = new OutlierTracker(settings({ consecutive5xx: 1 }));
    t.record('a', fail, 4, 0);
    assert.deepEqual(t.record('b', ok, 4, 1500), { returned: ['a'] });
    t.record('c', fail, 4, 2000);
    assert.equal(t.active, 1);
    t.retain(new Set(['a', 'b']));
    assert.equal(t.active, 0);
  });

  it('reads the snapshot shape in seconds', () => {
    assert.deepEqual(compileOutlierSettings({ Consecutive5xx: 5, ConsecutiveGatewayFailure: 5, BaseEjectionTime: 30, MaxEjectionTime: 300, MaxEjectionPercent: 50 }), {
      consecutive5xx: 5,
      consecutiveGatewayFailure: 5,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 50,
    });
    assert.equal(compileOutlierSettings({ Consecutive5xx: 5 }), undefined);
  });
});
