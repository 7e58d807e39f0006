/** `tessera proxy status`: rows in a stable order, the controller's state or the same rule as a fallback, one line per proxy. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyStatus } from '../../local/api-contract.js';
import { formatProxyStatus, proxyStatusRows } from './proxy-status.js';

const now = Date.parse('2026-12-07T12:00:00Z');
const p = (namespace: string, pod: string, extra: Partial<ProxyStatus> = {}): ProxyStatus => ({ namespace, pod, uuid: `${namespace}-${pod}`, connected: true, ...extra });

test('sorted by namespace then pod; the controller’s state is kept; an older controller’s rows are judged here', () => {
  const rows = proxyStatusRows({
    proxies: [
      p('b', 'z', { sentVersion: 'v1', appliedVersion: 'v1', sync: 'SYNCED' }),
      p('a', 'y', { sentVersion: 'v2', sentAt: '2026-12-07T11:59:00Z' }), // no `sync`: sent a minute ago, never acknowledged
      p('a', 'x'),
      p('b', 'a', { sentVersion: 'v3', appliedVersion: 'v1', sync: 'NACKED', lastError: 'version v3: bad\nroute' }),
    ],
  }, now);
  assert.deepEqual(rows.map((r) => [r.namespace, r.pod, r.sync]), [
    ['a', 'x', 'NOT SENT'],
    ['a', 'y', 'STALE'],
    ['b', 'a', 'NACKED'],
    ['b', 'z', 'SYNCED'],
  ]);
});

test('the table: short versions, the last ACK as an age, the error on one line', () => {
  const rows = proxyStatusRows({
    proxies: [
      p('curl', 'curl-1', { sentVersion: 'a'.repeat(64), appliedVersion: 'a'.repeat(64), ackedAt: '2026-12-07T11:59:30Z', sync: 'SYNCED' }),
      p('web', 'web-1', { sentVersion: 'b'.repeat(64), appliedVersion: 'a'.repeat(64), sync: 'NACKED', lastError: 'version bbbbbbbbbbbb: no\nsuch plugin' }),
    ],
  }, now);
  assert.equal(
    formatProxyStatus(rows, now),
    'NAMESPACE   POD      SYNC     SENT           APPLIED        LAST-ACK   ERROR\n' +
      'curl        curl-1   SYNCED   aaaaaaaaaaaa   aaaaaaaaaaaa   30s ago    -\n' +
      'web         web-1    NACKED   bbbbbbbbbbbb   aaaaaaaaaaaa   -          version bbbbbbbbbbbb: no such plugin\n',
  );
});
