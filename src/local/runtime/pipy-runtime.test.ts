/** The flomesh/pipy image runtime: accepted at apply time, runs `pipy -e SCRIPT` on the PipyJS runtime. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPodImages, runtimeFor } from './index.js';
import { listenPorts, pipyArgv } from './pipy-runtime.js';
import type { ContainerContext } from './types.js';

const container = { name: 'pipy', image: 'flomesh/pipy:latest', command: ['pipy', '-e', "pipy()\n.listen(8080)\n.serveHTTP(new Message('hi'))\n"] };
const pod = { metadata: { name: 'p', namespace: 'n' }, spec: { containers: [container] } };

test('checkPodImages accepts flomesh/pipy with any tag', () => {
  for (const image of ['flomesh/pipy:latest', 'flomesh/pipy:1.5.14', 'flomesh/pipy', 'docker.io/flomesh/pipy:0.90.0']) {
    checkPodImages({ metadata: {}, spec: { containers: [{ ...container, image }] } });
  }
  assert.equal(runtimeFor(container, pod)?.name, 'pipy');
});

test('the command runs the PipyJS entry with pipy’s own argv, bound to the app address, ready on the listen ports', () => {
  const ctx = { pod, container, appAddress: '127.9.65.1', podIP: '127.9.1.1', workdir: '/tmp', stateDir: '/tmp/state', hasSidecar: true } as unknown as ContainerContext;
  const cmd = runtimeFor(container, pod)!.command(ctx);
  assert.equal(cmd.command, process.execPath);
  assert.match(cmd.args[0]!, /pipyjs\/main\.js$/);
  assert.deepEqual(cmd.args.slice(1), container.command.slice(1));
  assert.equal(cmd.env['HOST'], '127.9.65.1');
  assert.deepEqual(cmd.readiness, { kind: 'tcp', host: '127.9.65.1', ports: [8080] });
});

test('argv and listen ports', () => {
  assert.deepEqual(pipyArgv(['pipy', '-e', 'x'], undefined), ['-e', 'x']);
  assert.deepEqual(pipyArgv(undefined, ['main.js']), ['main.js']);
  assert.deepEqual(listenPorts(".listen(8079)\n.listen('0.0.0.0:9000')"), [8079, 9000]);
});
