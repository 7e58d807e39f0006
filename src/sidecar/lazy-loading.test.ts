/**
 * A sidecar loads what its snapshot needs (docs/benchmarks.md, "Sidecar memory"): a real sidecar
 * process, its module loads listed by a loader hook, against a control plane serving a snapshot
 * without plugins and one with native plugins. The one without never loads the plugin compiler,
 * the PipyJS runtime, the token plugins (zod, JOSE), undici, prom-client or (its snapshot turns mTLS
 * off) the X.509 library; the one with plugins loads the plugin runtime (which shows the hook sees
 * imports made after the start) and still no compiler.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { FakeControlPlane } from './test-support/control-plane.js';
import { MODULE_TRACE_ENV, MODULE_TRACE_REGISTER } from './test-support/module-trace/index.js';
import { Tracker, allocateBlock } from './test-support/net.js';
import { addresses, compileFor, tempDir, worldResources, type Addresses, type PodAddr } from './test-support/world.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Modules no sidecar without plugins may load, by the part of their URL that names them. */
const NOT_WITHOUT_PLUGINS = ['/node_modules/@peculiar/x509/', '/node_modules/prom-client/', '/node_modules/esbuild/', '/node_modules/zod/', '/node_modules/jose/', '/node_modules/undici/', '/node_modules/yaml/', '/dist/src/pipyjs/', '/dist/src/plugins/compile.js', '/dist/src/sidecar/token-plugins/index.js', '/dist/src/sidecar/plugins/pipy.js', '/dist/src/sidecar/plugins/evaluate.js'];

describe('sidecar module loading', () => {
  const tracker = new Tracker();
  let a: Addresses;
  let cp: FakeControlPlane;
  let release: () => void = () => undefined;

  before(async () => {
    const b = await allocateBlock();
    release = b.release;
    a = addresses(b.block);
    cp = new FakeControlPlane(a.controlPlane);
    await cp.start();
    tracker.onClose(() => cp.stop());
  });
  after(async () => {
    await tracker.closeAll();
    release();
  });

  /** Runs the sidecar of `p` until it acknowledged its snapshot; returns the module URLs it loaded. */
  async function modulesLoaded(p: PodAddr, plugins: boolean): Promise<string[]> {
    const v = await compileFor(worldResources(a, { plugins }), p);
    cp.publish(p.uuid, v.version, v.snapshot);
    const dir = await tempDir(tracker, 'modules');
    const trace = join(dir, 'modules.txt');
    const child = spawn(process.execPath, ['--import', MODULE_TRACE_REGISTER.href, MAIN], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '',
        [MODULE_TRACE_ENV]: trace,
        TESSERA_POD_NAME: p.name, TESSERA_POD_NAMESPACE: p.namespace, TESSERA_POD_UID: `${p.name}-uid`,
        TESSERA_POD_IP: p.podIP, TESSERA_LOCAL_IP: p.localIP, TESSERA_SERVICE_ACCOUNT: p.serviceAccount,
        TESSERA_PROXY_UUID: p.uuid, TESSERA_PROXY_TOKEN: cp.tokenFor(p.uuid), TESSERA_CONTROLLER_URL: cp.url,
        TESSERA_SIDECAR_DIR: join(dir, 'data'), TESSERA_MESH_NAME: 'fsm',
      },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    tracker.onClose(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    try {
      const ack = await cp.waitAck(p.uuid, v.version, 30_000);
      assert.equal(ack.ok, true, ack.error);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nsidecar stderr: ${stderr}`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    return readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  }

  it('without plugins or mTLS: no compiler, PipyJS, token plugins, zod, JOSE, undici, prom-client or X.509 library', async () => {
    const loaded = await modulesLoaded(a.echoA, false);
    assert.ok(loaded.some((u) => u.endsWith('/dist/src/sidecar/runtime.js')), 'the trace lists the sidecar\'s own modules');
    assert.deepEqual(loaded.filter((u) => NOT_WITHOUT_PLUGINS.some((n) => u.includes(n))), []);
  });

  it('with native plugins: their runtime is loaded when the snapshot comes, the compiler still not', async () => {
    const loaded = await modulesLoaded(a.client, true);
    assert.ok(loaded.some((u) => u.endsWith('/dist/src/sidecar/plugins/evaluate.js')), loaded.join('\n'));
    assert.deepEqual(loaded.filter((u) => u.includes('/node_modules/esbuild/') || u.endsWith('/dist/src/plugins/compile.js')), []);
  });
});
