/** The admin port: anyone may read, only the holder of the admin token may change state. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createAdminServer, type AdminDeps } from './server.js';
import { SidecarMetrics } from '../observability/metrics.js';

async function withAdmin(adminToken: string | undefined, fn: (base: string, quits: () => number) => Promise<void>): Promise<void> {
  let quits = 0;
  const deps: AdminDeps = {
    runtime: () => undefined, ready: () => true, certificate: () => undefined,
    metrics: new SidecarMetrics({ pod: 'p', namespace: 'n' }), listeners: () => [], status: () => ({}),
    quit: () => void quits++,
    ...(adminToken === undefined ? { adminToken: '' } : { adminToken }),
  };
  const server = createAdminServer(deps);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => quits);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('a stranger POSTing /quitquitquit is refused; the admin token holder is obeyed', async () => {
  await withAdmin('s3cret-admin-token', async (base, quits) => {
    assert.equal((await fetch(`${base}/quitquitquit`, { method: 'POST' })).status, 401);
    assert.equal((await fetch(`${base}/quitquitquit`, { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal(quits(), 0, 'the sidecar did not quit for a stranger');
    assert.equal((await fetch(`${base}/ready`)).status, 200, 'reading stays open');
    const ok = await fetch(`${base}/quitquitquit`, { method: 'POST', headers: { authorization: 'Bearer s3cret-admin-token' } });
    assert.equal(ok.status, 200);
    assert.equal(quits(), 1);
  });
});

test('without a configured admin token, state-changing endpoints are disabled', async () => {
  await withAdmin(undefined, async (base, quits) => {
    const res = await fetch(`${base}/quitquitquit`, { method: 'POST', headers: { authorization: 'Bearer ' } });
    assert.equal(res.status, 403);
    assert.equal(quits(), 0);
  });
});
