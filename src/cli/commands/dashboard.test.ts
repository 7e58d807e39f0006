import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardOptionsOf } from './dashboard.js';

const flags = (over: Partial<{ port: string; address: string; open: boolean; interval: string }> = {}) => ({ port: '0', address: '127.0.0.1', open: true, interval: '1s', ...over });

test('dashboard flags: defaults, loopback only, a port, an interval within bounds', () => {
  assert.deepEqual(dashboardOptionsOf(flags(), '/s'), { stateDir: '/s', address: '127.0.0.1', port: 0, intervalMs: 1000, open: true });
  assert.deepEqual(dashboardOptionsOf(flags({ address: '::1', port: '8080', open: false, interval: '500ms' }), '/s'), { stateDir: '/s', address: '::1', port: 8080, intervalMs: 500, open: false });
  assert.throws(() => dashboardOptionsOf(flags({ address: '0.0.0.0' }), '/s'), /--address 0\.0\.0\.0: the dashboard binds to a loopback address only/);
  assert.throws(() => dashboardOptionsOf(flags({ address: '192.168.1.5' }), '/s'), /loopback address only/);
  assert.throws(() => dashboardOptionsOf(flags({ port: '70000' }), '/s'), /--port 70000: not a port/);
  assert.throws(() => dashboardOptionsOf(flags({ port: '-1' }), '/s'), /--port -1: not a port/);
  assert.throws(() => dashboardOptionsOf(flags({ interval: '10ms' }), '/s'), /--interval 10ms: between 250ms and 1m/);
  assert.throws(() => dashboardOptionsOf(flags({ interval: 'soon' }), '/s'), /invalid duration/);
});
