/** fortio/fortio images: what runs, where it binds, when it is ready, and `fortio` on PATH for exec. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Container } from '../../api/types.js';
import { imageToolDirs } from './image-tools.js';
import { runtimeFor, type ContainerContext } from './index.js';

const pod = (containers: Container[]) => ({ metadata: { name: 'fortio-abc', namespace: 'server', uid: 'u1' }, spec: { containers } });

function commandOf(container: Container) {
  const p = pod([container]);
  const runtime = runtimeFor(container, p);
  assert.ok(runtime);
  const ctx: ContainerContext = {
    pod: p, container, meshName: 'm', block: 77, meshKey: Buffer.from('k'), stateDir: '/tmp/state', workdir: '/tmp/work',
    podIP: '127.77.1.5', appAddress: '127.77.65.5', hasSidecar: false,
  };
  return { runtime: runtime.name, ...runtime.command(ctx) };
}

describe('fortio image runtime', () => {
  it("FSM's fortio.yaml (no command): `fortio server` on the app address, ready on 8080 and 8078", () => {
    const c = commandOf({ name: 'fortio', image: 'fortio/fortio:latest_release', ports: [{ containerPort: 8080 }, { containerPort: 8078 }, { containerPort: 8079 }] });
    assert.equal(c.runtime, 'fortio');
    assert.equal(c.command, process.execPath);
    assert.match(c.args[0]!, /src\/apps\/fortio\/main\.js$/);
    assert.deepEqual(c.args.slice(1), ['server']);
    assert.equal(c.env['HOST'], '127.77.65.5');
    assert.deepEqual(c.readiness, { kind: 'tcp', host: '127.77.65.5', ports: [8080, 8078] }, 'the grpc port is not waited for');
  });

  it('args replace the default `server`; a command must be fortio itself', () => {
    const c = commandOf({ name: 'f', image: 'docker.io/fortio/fortio', command: ['/usr/bin/fortio'], args: ['server', '-http-port', '0.0.0.0:9090', '-tcp-port', 'disabled'] });
    assert.deepEqual(c.args.slice(1), ['server', '-http-port', '0.0.0.0:9090', '-tcp-port', 'disabled']);
    assert.deepEqual(c.readiness, { kind: 'tcp', host: '127.77.65.5', ports: [9090] });
    const load = commandOf({ name: 'f', image: 'fortio/fortio', args: ['load', '-n', '1', 'http://x/'] });
    assert.deepEqual(load.readiness, { kind: 'started' });
    assert.throws(() => commandOf({ name: 'f', image: 'fortio/fortio', command: ['/bin/sh', '-c', 'sleep 1'] }), /container "f": the fortio image runs fortio/);
  });

  it('only fortio images match', () => {
    assert.equal(runtimeFor({ name: 'x', image: 'example/fortio-ish' }, pod([])), undefined);
  });

  it('a fortio pod has `fortio` on PATH for exec, running the built-in', () => {
    assert.deepEqual(imageToolDirs(pod([{ name: 'c', image: 'curlimages/curl' }])), []);
    const dirs = imageToolDirs(pod([{ name: 'fortio-client', image: 'fortio/fortio:latest_release' }]));
    assert.equal(dirs.length, 1);
    accessSync(join(dirs[0]!, 'fortio'), constants.X_OK);
    const r = spawnSync('fortio', ['version'], { env: { PATH: `${dirs[0]}:/usr/bin:/bin` }, encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^1\.60\.3 tessera-builtin /);
  });
});
