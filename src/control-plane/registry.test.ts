/** The proxy registry's record of what each proxy was sent and applied, and the sync state read from it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyStatus } from '../local/api-contract.js';
import { ProxyRegistry, STALE_AFTER_MS, syncStateOf } from './registry.js';

const UUID = '11111111-2222-3333-4444-555555555555';

function registryAt(): { registry: ProxyRegistry; advance: (ms: number) => void } {
  let now = Date.parse('2026-12-07T12:00:00Z');
  return { registry: new ProxyRegistry(() => now), advance: (ms) => (now += ms) };
}

test('sent, applied, rejected: times recorded, a late report about an older version ignored', () => {
  const { registry, advance } = registryAt();
  const r = registry.upsert(UUID, 'default', 'curl-0');
  r.connected = true;
  registry.markSent(r, 'v1');
  advance(40);
  registry.acknowledge(UUID, 'v1', true);
  let [s] = registry.status() as [ProxyStatus];
  assert.equal(s.appliedVersion, 'v1');
  assert.equal(Date.parse(s.ackedAt!) - Date.parse(s.sentAt!), 40);

  registry.markSent(r, 'v2');
  registry.acknowledge(UUID, 'v1', true); // a retried ACK of v1 arriving after v2 was sent
  registry.acknowledge(UUID, 'v1', false, 'late');
  [s] = registry.status() as [ProxyStatus];
  assert.equal(s.appliedVersion, 'v1');
  assert.equal(s.lastError, undefined);

  registry.acknowledge(UUID, 'v2', false, 'unknown plugin x');
  [s] = registry.status() as [ProxyStatus];
  assert.match(s.lastError!, /^version v2: unknown plugin x$/);
  assert.ok(s.nackedAt);
});

test('sync states as istioctl proxy-status names them', () => {
  const t0 = Date.parse('2026-12-07T12:00:00Z');
  const at = (ms: number): string => new Date(t0 + ms).toISOString();
  const base: ProxyStatus = { namespace: 'default', pod: 'p', uuid: UUID, connected: true };
  assert.equal(syncStateOf(base, t0), 'NOT SENT');
  assert.equal(syncStateOf({ ...base, sentVersion: 'v1', appliedVersion: 'v1', sentAt: at(0) }, t0 + 60_000), 'SYNCED');
  assert.equal(syncStateOf({ ...base, connected: false, sentVersion: 'v1', appliedVersion: 'v1', sentAt: at(0) }, t0), 'STALE', 'a closed stream gets nothing new');
  // sent, not yet acknowledged: in flight until STALE_AFTER_MS
  const inFlight = { ...base, sentVersion: 'v2', appliedVersion: 'v1', sentAt: at(0) };
  assert.equal(syncStateOf(inFlight, t0 + STALE_AFTER_MS - 1), 'SYNCED');
  assert.equal(syncStateOf(inFlight, t0 + STALE_AFTER_MS), 'STALE');
  // rejected after it was sent: NACKED; a rejection of an earlier send does not count
  assert.equal(syncStateOf({ ...inFlight, lastError: 'version v2: bad', nackedAt: at(10) }, t0 + 20), 'NACKED');
  assert.equal(syncStateOf({ ...inFlight, lastError: 'version v0: bad', nackedAt: at(-10) }, t0 + 20), 'SYNCED');
});
