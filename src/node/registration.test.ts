import assert from 'node:assert/strict';
import { test } from 'node:test';
import { microTime, kubeTime } from './api.js';
import { nodeStatus } from './registration.js';

const id = { name: 'n1', address: '127.0.0.1', port: 10250, maxPods: 42, version: '1.2.3' };

test('the Node status a kubelet reports: Ready, addresses, kubelet port, capacity = allocatable', () => {
  const s = nodeStatus(id) as {
    conditions: { type: string; status: string; lastTransitionTime: string; lastHeartbeatTime: string }[];
    addresses: unknown; daemonEndpoints: unknown; capacity: Record<string, string>; allocatable: Record<string, string>;
  };
  assert.deepEqual(s.conditions.map((c) => [c.type, c.status]), [['MemoryPressure', 'False'], ['DiskPressure', 'False'], ['PIDPressure', 'False'], ['Ready', 'True']]);
  assert.deepEqual(s.addresses, [{ type: 'InternalIP', address: '127.0.0.1' }]);
  assert.deepEqual(s.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
  assert.equal(s.capacity.pods, '42');
  assert.deepEqual(s.allocatable, s.capacity);
});

test('a heartbeat keeps the transition time of a condition whose status did not change', () => {
  const old = '2020-01-01T00:00:00Z';
  const s = nodeStatus(id, { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: old }, { type: 'DiskPressure', status: 'True', lastTransitionTime: old }] }) as {
    conditions: { type: string; lastTransitionTime: string; lastHeartbeatTime: string }[];
  };
  const ready = s.conditions.find((c) => c.type === 'Ready')!;
  assert.equal(ready.lastTransitionTime, old);
  assert.notEqual(ready.lastHeartbeatTime, old);
  assert.notEqual(s.conditions.find((c) => c.type === 'DiskPressure')!.lastTransitionTime, old, 'a changed status transitions now');
});

test('MicroTime and Time as the API server writes them', () => {
  const d = new Date('2024-05-06T07:08:09.123Z');
  assert.equal(microTime(d), '2024-05-06T07:08:09.123000Z');
  assert.equal(kubeTime(d), '2024-05-06T07:08:09Z');
});
