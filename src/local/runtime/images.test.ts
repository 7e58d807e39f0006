/** Image mapping: which runtime runs which container, the commands and env they get, apply-time refusals. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container } from '../../api/types.js';
import { isMeshError } from '../../lib/errors.js';
import { BOOTSTRAP_ENV, CONTROLLER_ENV, INJECTOR_ENV, SIDECAR_ENV, checkProxyToken } from '../layout.js';
import { checkPodImages, imageName, registerImageRuntime, runtimeFor, type ContainerContext, type PodShape } from './index.js';
import { gunicornBindPort, narrowWildcardBind } from './builtin-runtimes.js';

const pod = (containers: Container[], annotations: Record<string, string> = {}, labels: Record<string, string> = {}) => ({
  metadata: { name: 'web-abc', namespace: 'demo', uid: 'uid-1', annotations, labels },
  spec: { containers, serviceAccountName: 'web' },
});

function ctx(p: ReturnType<typeof pod>, container: Container, hasSidecar = false): ContainerContext {
  return {
    pod: p, container, meshName: 'm', block: 77, meshKey: Buffer.from('k3y'), stateDir: '/tmp/state', workdir: '/tmp/work',
    podIP: '127.77.1.5', appAddress: '127.77.65.5', hasSidecar,
    // one Secret `s` (key `k`) in every namespace: apps' env reads it, PipyJS scripts never do
    objects: (kind, namespace, name) => (kind === 'Secret' && name === 's' ? { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data: { k: Buffer.from('secret-value').toString('base64') } } as never : undefined),
  };
}

function commandOf(p: ReturnType<typeof pod>, container: Container, hasSidecar = false) {
  const runtime = runtimeFor(container, p);
  assert.ok(runtime, `a runtime for ${container.image}`);
  return { runtime: runtime.name, ...runtime.command(ctx(p, container, hasSidecar)) };
}

describe('image mapping', () => {
  it('strips tags and digests from image names', () => {
    assert.equal(imageName('tessera/sidecar:latest'), 'tessera/sidecar');
    assert.equal(imageName('localhost:5000/flomesh/httpbin:ken'), 'localhost:5000/flomesh/httpbin');
    assert.equal(imageName('curlimages/curl@sha256:abc'), 'curlimages/curl');
  });

  it('resolves an app container\'s secretKeyRef as a kubelet does', () => {
    const c: Container = { name: 'httpbin', image: 'flomesh/httpbin:ken', env: [{ name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] };
    assert.equal(commandOf(pod([c]), c).env['FROM_SECRET'], 'secret-value');
    const missing: Container = { ...c, env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'k' } } }] };
    assert.throws(() => commandOf(pod([missing]), missing), /secret "absent" not found/);
  });

  it('runs httpbin images as the bundled app with gunicorn args passed through', () => {
    const c: Container = { name: 'httpbin', image: 'flomesh/httpbin:ken', command: ['gunicorn', '-b', '0.0.0.0:14001', 'httpbin:app'], ports: [{ containerPort: 14001 }] };
    const cmd = commandOf(pod([c]), c);
    assert.equal(cmd.runtime, 'httpbin');
    assert.equal(cmd.command, process.execPath);
    assert.match(cmd.args[0]!, /src\/apps\/httpbin\/main\.js$/);
    assert.deepEqual(cmd.args.slice(1), ['gunicorn', '-b', '127.77.65.5:14001', 'httpbin:app'], 'wildcard bind narrowed to the app address');
    assert.equal(cmd.env.HOST, '127.77.65.5');
    assert.equal(cmd.env.PORT, '14001');
    assert.deepEqual(cmd.readiness, { kind: 'tcp', host: '127.77.65.5', ports: [14001] });
  });

  it('reads the gunicorn bind port in its spellings', () => {
    assert.equal(gunicornBindPort(['-b', '0.0.0.0:8000']), 8000);
    assert.equal(gunicornBindPort(['--bind=127.0.0.1:9000']), 9000);
    assert.equal(gunicornBindPort(['-b:7000']), 7000);
    assert.equal(gunicornBindPort(['httpbin:app']), undefined);
    assert.deepEqual(narrowWildcardBind(['--bind=[::]:80'], '127.1.65.1'), ['--bind=127.1.65.1:80']);
    assert.deepEqual(narrowWildcardBind(['-b', '127.0.0.9:80'], '127.1.65.1'), ['-b', '127.0.0.9:80'], 'an explicit host is kept');
  });

  it('needs no process for a curl image that sleeps, and is ready when started', () => {
    const c: Container = { name: 'curl', image: 'curlimages/curl', command: ['sleep', '365d'] };
    const cmd = commandOf(pod([c]), c);
    assert.equal(cmd.runtime, 'curl');
    assert.equal(cmd.command, undefined);
    assert.deepEqual(cmd.readiness, { kind: 'started' });
  });

  it('gives the sidecar its identity, a token under the mesh key and its controller', () => {
    const c: Container = { name: 'sidecar', image: 'tessera/sidecar' };
    const p = pod([{ name: 'app', image: 'x' }, c], {}, { 'fsm-proxy-uuid': 'u-1' });
    const cmd = commandOf(p, c, true);
    assert.equal(cmd.runtime, 'sidecar');
    assert.deepEqual(cmd.args.slice(0, -1), ['--max-semi-space-size=4'], 'the V8 flags of sidecar/node-flags.ts');
    assert.match(cmd.args.at(-1)!, /src\/sidecar\/main\.js$/);
    assert.equal(cmd.env[SIDECAR_ENV.podIP], '127.77.1.5');
    assert.equal(cmd.env[SIDECAR_ENV.localIP], '127.77.65.5');
    assert.equal(cmd.env[SIDECAR_ENV.serviceAccount], 'web');
    assert.equal(cmd.env[SIDECAR_ENV.proxyUUID], 'u-1');
    // a short-lived token for this uuid under the mesh key, and the controller over TLS with the cluster CA
    assert.equal(checkProxyToken(Buffer.from('k3y').toString('hex'), 'u-1', cmd.env[SIDECAR_ENV.proxyToken]!), 'valid');
    assert.equal(cmd.env[SIDECAR_ENV.controllerUrl], 'https://127.77.0.2:6060');
    assert.equal(cmd.env[SIDECAR_ENV.controllerCa], '/tmp/state/pki/ca.crt');
    assert.ok(cmd.env[SIDECAR_ENV.adminToken], 'the admin token guards state-changing admin endpoints');
    assert.equal(cmd.env[SIDECAR_ENV.dataDir], '/tmp/state/pods/demo/web-abc');
    assert.deepEqual(cmd.readiness, { kind: 'http', url: 'http://127.77.1.5:15000/ready' });
  });

  it("hands PipyJS scripts the sidecar container's spec env as TESSERA_SCRIPT_ENV, never a token", () => {
    const c: Container = {
      name: 'sidecar',
      image: 'tessera/sidecar',
      env: [
        { name: 'TESSERA_MESH_NAME', value: 'fsm' },
        { name: 'TESSERA_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'TESSERA_ADMIN_TOKEN', value: 'declared-in-the-spec' },
        { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
    } as Container;
    const p = pod([{ name: 'app', image: 'x' }, c], {}, { 'fsm-proxy-uuid': 'u-1' });
    const cmd = commandOf(p, c, true);
    const scriptEnv = JSON.parse(cmd.env[SIDECAR_ENV.scriptEnv]!) as Record<string, string>;
    assert.deepEqual(scriptEnv, { TESSERA_MESH_NAME: 'fsm', TESSERA_POD_NAME: p.metadata.name });
    assert.ok(!Object.values(scriptEnv).includes(cmd.env[SIDECAR_ENV.proxyToken]!));
  });

  it('runs the control plane with its listen address and the mesh key in hex', () => {
    const c: Container = { name: 'controller', image: 'tessera/controller:latest' };
    const cmd = commandOf(pod([c]), c);
    // Started through the address handover, so a rollout's new pod waits for the old one's port.
    assert.match(cmd.args[0]!, /src\/local\/runtime\/await-address-main\.js$/);
    assert.deepEqual(cmd.args.slice(1, 3), ['127.77.0.2', '6060']);
    assert.match(cmd.args[3]!, /src\/control-plane\/main\.js$/);
    assert.equal(cmd.env[CONTROLLER_ENV.listen], '127.77.0.2:6060');
    assert.equal(cmd.env[CONTROLLER_ENV.meshKey], Buffer.from('k3y').toString('hex'));
    assert.equal(cmd.env[CONTROLLER_ENV.stateDir], '/tmp/state');
    // readiness checks who answers: the controller's certificate must chain to the cluster CA
    assert.deepEqual(cmd.readiness, { kind: 'https', url: 'https://127.77.0.2:6060/healthz', caFile: '/tmp/state/pki/ca.crt' });
  });

  it('runs the injector and bootstrap at their fixed addresses with the API token', () => {
    const injector: Container = { name: 'injector', image: 'tessera/injector' };
    const inj = commandOf(pod([injector]), injector);
    assert.equal(inj.runtime, 'injector');
    assert.match(inj.args[0]!, /src\/injector\/main\.js$/);
    assert.equal(inj.env[INJECTOR_ENV.listen], '127.77.0.3:9090');
    assert.equal(inj.env[INJECTOR_ENV.meshName], 'm');
    assert.deepEqual(inj.readiness, { kind: 'https', url: 'https://127.77.0.3:9090/healthz', caFile: '/tmp/state/pki/ca.crt' });
    const bootstrap: Container = { name: 'bootstrap', image: 'tessera/bootstrap:v1' };
    const boot = commandOf(pod([bootstrap]), bootstrap);
    assert.equal(boot.runtime, 'bootstrap');
    assert.match(boot.args[0]!, /src\/bootstrap\/main\.js$/);
    assert.equal(boot.env[BOOTSTRAP_ENV.listen], '127.77.0.4:9091');
    assert.equal(boot.env[BOOTSTRAP_ENV.apiUrl], 'https://127.77.0.1:15080');
    assert.deepEqual(boot.readiness, { kind: 'http', url: 'http://127.77.0.4:9091/healthz' });
  });

  it('runs an annotated command in the workdir with the app env, proxy and own env', () => {
    const c: Container = { name: 'web', image: 'nginx', ports: [{ containerPort: 8080 }], env: [{ name: 'GREETING', value: 'hi' }] };
    const cmd = commandOf(pod([c], { 'local.tessera.dev/command': 'python3 -m http.server $PORT' }), c, true);
    assert.equal(cmd.runtime, 'local-command');
    assert.deepEqual([cmd.command, ...cmd.args], ['/bin/sh', '-c', 'python3 -m http.server $PORT']);
    assert.equal(cmd.cwd, '/tmp/work');
    assert.equal(cmd.env.PORT, '8080');
    assert.equal(cmd.env.POD_NAME, 'web-abc');
    assert.equal(cmd.env.POD_NAMESPACE, 'demo');
    assert.equal(cmd.env.POD_IP, '127.77.1.5');
    assert.equal(cmd.env.GREETING, 'hi');
    assert.equal(cmd.env.http_proxy, 'http://127.77.65.5:15001');
    assert.equal(cmd.env.HTTP_PROXY, 'http://127.77.65.5:15001');
    assert.equal(cmd.env.NO_PROXY, '');
    // the sidecar's data directory (its TESSERA_SIDECAR_DIR) is where it announces per-upstream listeners
    const sidecar = commandOf(pod([c, { name: 'sidecar', image: 'tessera/sidecar' }]), { name: 'sidecar', image: 'tessera/sidecar' }, true);
    assert.equal(cmd.env.TESSERA_UPSTREAMS_FILE, `${sidecar.env.TESSERA_SIDECAR_DIR}/upstreams.json`);
  });

  it('prefers the per-container command annotation and never replaces the sidecar', () => {
    const app: Container = { name: 'app', image: 'nginx' };
    const sidecar: Container = { name: 'sidecar', image: 'tessera/sidecar' };
    const p = pod([app, sidecar], { 'local.tessera.dev/command': 'pod-wide', 'local.tessera.dev/command-app': 'just-app' });
    assert.equal(commandOf(p, app).args[1], 'just-app');
    assert.equal(commandOf(p, sidecar, true).runtime, 'sidecar');
  });

  it('sets no proxy without a sidecar', () => {
    const c: Container = { name: 'web', image: 'kennethreitz/httpbin' };
    const cmd = commandOf(pod([c]), c);
    assert.equal(cmd.env.http_proxy, undefined);
    assert.equal(cmd.env.TESSERA_UPSTREAMS_FILE, undefined);
    assert.equal(cmd.env.PORT, '80');
  });
});

describe('checkPodImages', () => {
  it('refuses an unknown image, naming the container, the image and the way out', () => {
    const template = { spec: { containers: [{ name: 'x', image: 'nginx' }] } };
    assert.throws(() => checkPodImages(template), (e: unknown) => {
      assert.ok(isMeshError(e));
      assert.equal(e.code, 'MESH_ERR_IMAGE_UNSUPPORTED');
      assert.equal(e.message, 'container "x" image "nginx": no local runtime for this image; add annotation local.tessera.dev/command with the command to run');
      return true;
    });
  });

  it('refuses a curl image that runs something other than sleep', () => {
    const template = { spec: { containers: [{ name: 'c', image: 'curlimages/curl', command: ['curl', 'http://x'] }] } };
    assert.throws(() => checkPodImages(template), /container "c" image "curlimages\/curl"/);
  });

  it('accepts known images and annotated ones', () => {
    checkPodImages({ spec: { containers: [{ name: 'h', image: 'flomesh/httpbin:ken' }, { name: 'c', image: 'curlimages/curl' }] } });
    checkPodImages({ metadata: { annotations: { 'local.tessera.dev/command': 'nginx -g daemon off;' } }, spec: { containers: [{ name: 'x', image: 'nginx' }] } });
    checkPodImages({ metadata: { annotations: { 'local.tessera.dev/command-x': 'run-x' } }, spec: { containers: [{ name: 'x', image: 'nginx' }] } });
  });

  it('lets later issues register runtimes', () => {
    const p: PodShape = { spec: { containers: [{ name: 'later', image: 'example/later-runtime:1' }] } };
    assert.throws(() => checkPodImages(p));
    registerImageRuntime({
      name: 'test-later',
      matches: (image) => imageName(image) === 'example/later-runtime',
      command: () => ({ command: 'true', args: [], env: {}, readiness: { kind: 'started' } }),
    });
    checkPodImages(p);
  });
});
