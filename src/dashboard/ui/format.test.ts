import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Decision } from '../model.js';
import { ago, expiryClass, healthOf, percent, perSecond, pluginName, shortVersion, timeLeft } from './format.js';
import { matchesText, mergeDecisions } from './feed.js';

test('success-rate bands: ≥ 99 % healthy, ≥ 95 % degraded, below failing, no traffic idle', () => {
  assert.deepEqual([1, 0.99, 0.989, 0.95, 0.949, 0, null].map(healthOf), ['healthy', 'healthy', 'degraded', 'degraded', 'failing', 'failing', 'idle']);
});

test('figures as people read them', () => {
  assert.deepEqual([percent(1), percent(0.8), percent(0.9995), percent(null)], ['100 %', '80.0 %', '100 %', '–']);
  assert.deepEqual([perSecond(0), perSecond(0.25), perSecond(4.26), perSecond(12.6)], ['0/s', '0.25/s', '4.3/s', '13/s']);
  assert.equal(shortVersion('a1b2c3d4e5f6a7b8'), 'a1b2c3d4');
  assert.equal(shortVersion(undefined), '–');
});

test('times relative to the server clock; certificates warn under 7 days', () => {
  const now = '2026-12-07T18:00:00Z';
  assert.deepEqual(['2026-12-07T17:59:48Z', '2026-12-07T17:57:00Z', '2026-12-07T15:00:00Z', '2026-12-05T18:00:00Z', undefined].map((t) => ago(t, now)), ['12 s ago', '3 min ago', '3 h ago', '2 d ago', '–']);
  const cert = (daysLeft: number, lifetimeDays?: number) => {
    const notAfter = Date.parse('2026-12-07T12:00:00Z');
    return { daysLeft, notAfter: new Date(notAfter).toISOString(), ...(lifetimeDays ? { notBefore: new Date(notAfter - lifetimeDays * 86_400_000).toISOString() } : {}) };
  };
  assert.deepEqual([-1, 0, 6, 7, 365].map((d) => expiryClass(cert(d))), ['expired', 'expiring', 'expiring', 'ok', 'ok']);
  // a workload certificate lives a day and is renewed at two thirds: 23 h left is fine, 5 h is late
  assert.equal(expiryClass(cert(23 / 24, 1)), 'ok');
  assert.equal(expiryClass(cert(5 / 24, 1)), 'expiring');
  // a ten-year CA warns a week ahead, not years
  assert.equal(expiryClass(cert(400, 3650)), 'ok');
  assert.equal(expiryClass(cert(6, 3650)), 'expiring');
  assert.deepEqual(
    [timeLeft('2026-12-08T15:30:00Z', now, 0), timeLeft('2026-12-07T18:20:00Z', now, 0), timeLeft('2027-01-16T18:00:00Z', now, 40), timeLeft('2026-12-05T18:00:00Z', now, -2)],
    ['21 h left', 'under 1 h left', '40 d left', 'expired 2 d ago'],
  );
  assert.equal(pluginName('modules/inbound-tls-termination.js'), 'inbound-tls-termination');
  assert.equal(pluginName('plugins/my-plugin'), 'plugins/my-plugin');
});

const decision = (id: string, time: string, extra: Partial<Decision> = {}): Decision => ({
  id, time, namespace: 'default', workload: 'todos', pod: 'todos-1', direction: 'inbound', protocol: 'http', kind: 'AuthorizationPolicy', reason: 'authorization: matched a DENY policy', ...extra,
});

test('the feed: pushed and listed refusals once each, newest first; every word of the filter must match', () => {
  const a = decision('a', '2026-12-07T18:00:01Z', { policy: 'default/deny-admin', path: '/admin/x' });
  const b = decision('b', '2026-12-07T18:00:02Z');
  const c = decision('c', '2026-12-07T18:00:00Z');
  assert.deepEqual(mergeDecisions([b, a], [a, c]).map((d) => d.id), ['b', 'a', 'c']);
  assert.ok(matchesText(a, '  DENY-admin  /admin/x '));
  assert.ok(!matchesText(a, 'deny-admin /other'));
  assert.ok(matchesText(c, ''));
  assert.ok(!matchesText(c, 'undefined'), 'absent fields are not searchable text');
});
