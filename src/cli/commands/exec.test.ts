/** `exec` runs a real child process with the pod's environment and passes its exit status through. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PodProcessInfo } from '../../local/api-contract.js';
import { FakeMesh } from '../testing/fake-mesh.js';
import { runTessera } from '../testing/harness.js';
import { execEnvironment } from './exec.js';

function meshWithCurl(): FakeMesh {
  const m = new FakeMesh();
  const info: PodProcessInfo = {
    namespace: 'curl',
    name: 'curl-7d8f9c6b5d-x2x7q',
    podIP: '127.7.1.1',
    localIP: '127.7.65.1',
    proxyUrl: 'http://127.7.65.1:15001',
    adminUrl: 'http://127.7.1.1:15000',
    containers: ['curl', 'sidecar'],
    env: { http_proxy: 'http://127.7.65.1:15001', HTTP_PROXY: 'http://127.7.65.1:15001', POD_NAME: 'curl-7d8f9c6b5d-x2x7q' },
  };
  m.podInfos.set('curl/curl-7d8f9c6b5d-x2x7q', info);
  return m;
}

const cwd = process.cwd();
const env = { PATH: process.env['PATH'], HOME: '/home/u', no_proxy: 'localhost,127.0.0.1', NO_PROXY: '*', http_proxy: 'http://corp:3128' };

test("exec POD -n NS -c CONTAINER -- sh -c 'echo $http_proxy; exit 3': pod env, CMD's exit status", async () => {
  const r = await runTessera(
    ['exec', 'curl-7d8f9c6b5d-x2x7q', '-n', 'curl', '-c', 'curl', '--', 'sh', '-c', 'echo $http_proxy; exit 3'],
    meshWithCurl(),
    { env, cwd },
  );
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'http://127.7.65.1:15001\n', '']);
});

test('inherited no_proxy is removed so traffic cannot bypass the sidecar; the rest is inherited', async () => {
  const r = await runTessera(
    ['exec', '-it', 'pod/curl-7d8f9c6b5d-x2x7q', '-n', 'curl', '--', 'sh', '-c', 'echo "[$no_proxy][$NO_PROXY][$HOME][$POD_NAME]"'],
    meshWithCurl(),
    { env, cwd },
  );
  assert.deepEqual([r.code, r.stdout], [0, '[][][/home/u][curl-7d8f9c6b5d-x2x7q]\n']);
});

test('the child stderr is passed on and arguments after -- are not read as options', async () => {
  const r = await runTessera(
    ['exec', 'curl-7d8f9c6b5d-x2x7q', '-n', 'curl', '--', 'sh', '-c', 'echo "$1 $2" >&2', 'sh', '-n', '--state'],
    meshWithCurl(),
    { env, cwd },
  );
  assert.deepEqual([r.code, r.stderr], [0, '-n --state\n']);
});

test('unknown container, missing command and missing executable are errors', async () => {
  const bad = await runTessera(['exec', 'curl-7d8f9c6b5d-x2x7q', '-n', 'curl', '-c', 'nginx', '--', 'true'], meshWithCurl(), { env, cwd });
  assert.deepEqual([bad.code, bad.stderr], [1, 'error: container nginx is not valid for pod curl-7d8f9c6b5d-x2x7q; choose one of: [curl sidecar]\n']);
  const none = await runTessera(['exec', 'curl-7d8f9c6b5d-x2x7q', '-n', 'curl'], meshWithCurl(), { env, cwd });
  assert.deepEqual([none.code, none.stderr], [1, 'error: you must specify at least one command for the container\n']);
  const missing = await runTessera(['exec', 'curl-7d8f9c6b5d-x2x7q', '-n', 'curl', '--', 'no-such-tool-xyz'], meshWithCurl(), { env, cwd });
  assert.deepEqual([missing.code, missing.stderr], [1, 'error: exec: "no-such-tool-xyz": executable file not found in $PATH\n']);
  const noPod = await runTessera(['exec', 'ghost', '-n', 'curl', '--', 'true'], meshWithCurl(), { env, cwd });
  assert.deepEqual([noPod.code, noPod.stderr], [1, 'error: pods "ghost" not found\n']);
});

test('execEnvironment: pod variables win, undefined values are dropped', () => {
  assert.deepEqual(execEnvironment({ A: '1', B: undefined, no_proxy: 'x', http_proxy: 'old' }, { http_proxy: 'new', no_proxy: 'pod-own' }), {
    A: '1',
    http_proxy: 'new',
    no_proxy: 'pod-own',
  });
});
