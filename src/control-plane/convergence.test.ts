/** Convergence time is observed once per proxy and version; /v1/proxies carries each proxy's sync state. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConvergenceTracker } from './convergence.js';
import { ProxyRegistry, STALE_AFTER_MS, syncStateOf } from './registry.js';
import type { ProxyStatus } from '../local/api-contract.js';

/** count and sum of the histogram, and the NACK counter, read from the exposition text */
async function figures(t: ConvergenceTracker): Promise<{ count: number; sum: number; nacks: number; buckets: Map<string, number> }> {
  const text = await t.metrics();
  const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^tessera_proxy_convergence_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) buckets.set(m[1]!, Number(m[2]));
  return {
    count: value(/^tessera_proxy_convergence_seconds_count (\S+)$/m),
    sum: value(/^tessera_proxy_convergence_seconds_sum (\S+)$/m),
    nacks: value(/^tessera_proxy_nacks_total (\S+)$/m),
    buckets,
  };
}

test('an ACK of the version a change produced is timed once, from the change', async () => {
  let now = 1_000;
  const t = new ConvergenceTracker(() => now);
  t.produced('p1', 'v1', 1_000);
  now = 1_300;
  t.acknowledged('p1', 'v1', true);
  t.acknowledged('p1', 'v1', true); // a reconnect's repeated ACK
  const f = await figures(t);
  assert.equal(f.count, 1);
  assert.equal(f.sum, 0.3);
  assert.equal(f.buckets.get('0.2'), 0);
  assert.equal(f.buckets.get('0.5'), 1);
});

test('a superseded version converges with the newer one, timed from the older change', async () => {
  let now = 0;
  const t = new ConvergenceTracker(() => now);
  t.produced('p1', 'v1', 100);
  t.produced('p1', 'v2', 400);
  now = 1_100;
  t.acknowledged('p1', 'v1', true); // late ACK of what was replaced: not the version awaited
  assert.equal((await figures(t)).count, 0);
  t.acknowledged('p1', 'v2', true);
  const f = await figures(t);
  assert.equal(f.count, 1);
  assert.equal(f.sum, 1);
});

test('NACKs are counted, not timed; proxies are timed apart; gone proxies are forgotten', async () => {
  let now = 0;
  const t = new ConvergenceTracker(() => now);
  t.produced('p1', 'v1', 0);
  t.produced('p2', 'v9', 0);
  t.produced('p3', 'v5', 0);
  now = 50;
  t.acknowledged('p1', 'v1', false);
  t.acknowledged('p2', 'v9', true);
  t.retain(new Set(['p1', 'p2']));
  t.acknowledged('p3', 'v5', true);
  const f = await figures(t);
  assert.equal(f.nacks, 1);
  assert.equal(f.count, 1, 'p2 only: p1 rejected its version and p3 is gone');
  // the same version produced again (a recompute that changed nothing for p1) keeps its change time
  t.produced('p1', 'v1', 40);
  now = 90;
  t.acknowledged('p1', 'v1', true);
  assert.equal((await figures(t)).sum, 0.05 + 0.09);
});

test('registry status: one sync state per case, as syncStateOf names it', () => {
  let now = 10_000;
  const registry = new ProxyRegistry(() => now);
  const notSent = registry.upsert('00000000-0000-0000-0000-000000000001', 'a', 'not-sent');
  notSent.connected = true;
  const synced = registry.upsert('00000000-0000-0000-0000-000000000002', 'a', 'synced');
  synced.connected = true;
  registry.markSent(synced, 'v1');
  registry.acknowledge(synced.uuid, 'v1', true);
  const nacked = registry.upsert('00000000-0000-0000-0000-000000000003', 'b', 'nacked');
  nacked.connected = true;
  registry.markSent(nacked, 'v2');
  registry.acknowledge(nacked.uuid, 'v2', false, 'bad route');
  const stale = registry.upsert('00000000-0000-0000-0000-000000000004', 'b', 'stale');
  stale.connected = true;
  registry.markSent(stale, 'v3');
  const pending = registry.upsert('00000000-0000-0000-0000-000000000005', 'b', 'pending');
  const closed = registry.upsert('00000000-0000-0000-0000-000000000006', 'c', 'closed');
  registry.markSent(closed, 'v4');
  registry.acknowledge(closed.uuid, 'v4', true);
  now += STALE_AFTER_MS;
  pending.connected = true;
  registry.markSent(pending, 'v5');
  const states = Object.fromEntries(registry.status().map((s) => [s.pod, s.sync]));
  assert.deepEqual(states, {
    'not-sent': 'NOT SENT',
    synced: 'SYNCED',
    nacked: 'NACKED',
    stale: 'STALE',
    pending: 'SYNCED', // sent just now: still within the time a proxy has to answer
    closed: 'STALE', // applied what it was sent, but its stream is closed
  });
  const s = registry.status().find((p) => p.pod === 'nacked')!;
  assert.match(s.lastError!, /^version v2: bad route$/);
  assert.equal(s.sync, syncStateOf(s as ProxyStatus, now));
});

test('a NACK followed by a newer version is no longer NACKED', () => {
  let now = 0;
  const registry = new ProxyRegistry(() => now);
  const r = registry.upsert('00000000-0000-0000-0000-000000000001', 'a', 'p');
  r.connected = true;
  registry.markSent(r, 'v1');
  now = 10;
  registry.acknowledge(r.uuid, 'v1', false, 'bad');
  now = 20;
  registry.markSent(r, 'v2');
  assert.equal(registry.status()[0]!.sync, 'SYNCED', 'v2 sent a moment ago');
  now = 20 + STALE_AFTER_MS;
  assert.equal(registry.status()[0]!.sync, 'STALE');
});

test('newer versions pushed to a proxy that answers none stay STALE: the wait counts from the first', () => {
  let now = 0;
  const registry = new ProxyRegistry(() => now);
  const r = registry.upsert('00000000-0000-0000-0000-000000000001', 'a', 'p');
  r.connected = true;
  registry.markSent(r, 'v1');
  registry.acknowledge(r.uuid, 'v1', true);
  now = 1_000;
  registry.markSent(r, 'v2');
  now = 1_000 + STALE_AFTER_MS;
  registry.markSent(r, 'v3'); // its own endpoints changed: it stopped answering
  assert.equal(registry.status()[0]!.sync, 'STALE');
  assert.equal(registry.status()[0]!.sentAt, new Date(1_000).toISOString());
  registry.acknowledge(r.uuid, 'v3', true);
  assert.equal(registry.status()[0]!.sync, 'SYNCED');
  now += 10;
  registry.markSent(r, 'v4');
  assert.equal(registry.status()[0]!.sentAt, new Date(now).toISOString(), 'answered: a new wait starts');
});
