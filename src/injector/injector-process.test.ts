/** The injector as a real process: health, bearer auth, the mutation answer, refusals, and waiting for its port. */
import { freePort, stopChildren } from '../lib/test-processes.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Pod } from '../api/types.js';
import { INJECTOR_ENV } from '../local/layout.js';
import { httpOk } from '../local/runtime/index.js';
import type { MutationRequest } from './protocol.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const TOKEN = 'injector-test-token';
const children: ChildProcess[] = [];

after(() => stopChildren(children));


function startInjector(listen: string): ChildProcess {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, [INJECTOR_ENV.apiToken]: TOKEN, [INJECTOR_ENV.meshName]: 'fsm', [INJECTOR_ENV.listen]: listen },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return child;
}

async function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const request = (pod: Pod, overrides: Partial<MutationRequest> = {}): MutationRequest => ({
  pod, meshName: 'fsm',
  namespace: { name: 'demo', labels: { 'flomesh.io/monitored-by': 'fsm' }, annotations: { 'flomesh.io/sidecar-injection': 'enabled' } },
  ...overrides,
});
const pod = (annotations?: Record<string, string>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'demo', annotations }, spec: { containers: [{ name: 'web', image: 'x' }] },
});

test('serves /mutate-pod-creation behind the bearer token', async () => {
  const port = await freePort();
  startInjector(`127.0.0.1:${port}`);
  const base = `http://127.0.0.1:${port}`;
  await until('injector healthy', () => httpOk(`${base}/healthz`));
  const post = (body: unknown, token = TOKEN) => fetch(`${base}/mutate-pod-creation`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  assert.equal((await post(request(pod()), 'wrong')).status, 401);
  const ok = await post(request(pod()));
  assert.equal(ok.status, 200);
  const answer = (await ok.json()) as { pod: Pod; injected: boolean };
  assert.equal(answer.injected, true);
  assert.deepEqual(answer.pod.spec!.containers.map((c) => c.name), ['web', 'sidecar']);
  assert.ok(answer.pod.metadata.labels?.['fsm-proxy-uuid']);

  const optOut = (await (await post(request(pod({ 'flomesh.io/sidecar-injection': 'disabled' })))).json()) as { pod: Pod; injected: boolean };
  assert.equal(optOut.injected, false);
  assert.equal(optOut.pod.spec!.containers.length, 1);

  const bad = await post(request(pod({ 'flomesh.io/sidecar-injection': 'maybe' })));
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /invalid annotation value .* maybe/);
  assert.equal((await post(request(pod(), { meshName: 'other' }))).status, 400);
  assert.equal((await post({ pod: { kind: 'Pod' } })).status, 400);
});

test('waits for its address while another process holds it, then takes it over', async () => {
  const port = await freePort();
  const holder = createServer((s) => s.destroy());
  await new Promise<void>((r) => holder.listen(port, '127.0.0.1', r));
  const child = startInjector(`127.0.0.1:${port}`);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(child.exitCode, null, 'still running, waiting for the port');
  await new Promise((r) => holder.close(r));
  await until('injector took the port over', () => httpOk(`http://127.0.0.1:${port}/healthz`));
});
