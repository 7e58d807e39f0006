/** The control loop recomputes on changes that can change a snapshot, and not on the AccessControl status the daemon writes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/types.js';
import { Controller, statusOnlyChange } from './controller.js';
import { ProxyRegistry } from './registry.js';

const acl = (resourceVersion: string, status?: unknown, sources = [{ kind: 'IPRange', name: '10.0.0.0/8' }]): Resource => ({
  apiVersion: 'policy.flomesh.io/v1alpha1',
  kind: 'AccessControl',
  metadata: { name: 'httpbin', namespace: 'httpbin', resourceVersion },
  spec: { sources },
  ...(status ? { status } : {}),
});

const committed = { currentStatus: 'committed', reason: 'successfully committed by the system' };

test('statusOnlyChange: AccessControl status and resourceVersion only', () => {
  assert.equal(statusOnlyChange(acl('1'), acl('2', committed)), true);
  assert.equal(statusOnlyChange(acl('2', committed), acl('3', { currentStatus: 'error', reason: 'x' })), true);
  assert.equal(statusOnlyChange(acl('1'), acl('2', committed, [{ kind: 'IPRange', name: '10.1.0.0/16' }])), false, 'a spec change');
  const pod = (rv: string, status: unknown): Resource => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n', resourceVersion: rv }, status });
  assert.equal(statusOnlyChange(pod('1', { podIP: '10.0.0.1' }), pod('2', { podIP: '10.0.0.2' })), false, 'the compiler reads pod status');
});

test('a status-only AccessControl change schedules no recompute; a spec change does', async () => {
  const log = { info: () => undefined, warn: () => undefined };
  const controller = new Controller('fsm', new ProxyRegistry(), log);
  let runs = 0;
  // count the recomputes the debouncer starts (recompute is an own property)
  (controller as unknown as { recompute: () => Promise<void> }).recompute = async () => void runs++;
  controller.sync([acl('1')]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(runs, 1, 'the initial sync');
  controller.change('MODIFIED', acl('2', committed));
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(runs, 1, 'the status write changes nothing the compiler reads');
  controller.change('MODIFIED', acl('3', committed, [{ kind: 'IPRange', name: '10.1.0.0/16' }]));
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(runs, 2);
});
