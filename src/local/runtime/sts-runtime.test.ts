/**
 * The tessera/sts image's environment: the token service believes `serviceidentity` only from the
 * pod IP (main.ts's default), the address its own sidecar forwards HTTP from. Never 127.0.0.1: in a
 * sandbox that is where the sidecar's raw TCP relay comes from, carrying whatever header the caller wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerContext } from './types.js';
import { stsRuntime } from './sts-runtime.js';

function ctx(sandbox: boolean, env: { name: string; value: string }[] = []): ContainerContext {
  return {
    pod: { metadata: { name: 'tessera-sts-0', namespace: 'auth' }, spec: { containers: [] } },
    container: { name: 'sts', image: 'tessera/sts:latest', ports: [{ containerPort: 8080 }], env },
    meshName: 'fsm',
    block: 7,
    meshKey: new Uint8Array(32),
    stateDir: '/nonexistent/state',
    workdir: '/nonexistent',
    podIP: sandbox ? '10.77.0.12' : '127.7.0.12',
    appAddress: '127.7.64.12',
    hasSidecar: true,
    ...(sandbox ? { sandbox: { gateway: '10.77.0.1', sidecarDataDir: '/run/tessera/sidecar', caFile: '/run/tessera/ca.crt' } } : {}),
  };
}

test('tessera/sts: no STS_SIDECAR_ADDRESSES is set, so only POD_IP is believed; the app binds the pod-private address', () => {
  for (const sandbox of [true, false]) {
    const c = ctx(sandbox);
    assert.ok(stsRuntime.matches(c.container.image!, c.container, c.pod));
    const cmd = stsRuntime.command(c);
    const env = cmd.env;
    assert.equal(env['STS_SIDECAR_ADDRESSES'], undefined, `sandbox=${sandbox}`);
    assert.equal(env['POD_IP'], c.podIP);
    assert.equal(env['HOST'], c.appAddress);
    assert.equal(env['PORT'], '8080');
    assert.deepEqual(cmd.readiness, { kind: 'http', url: 'http://127.7.64.12:8080/healthz' });
  }
});

test('tessera/sts: the manifest may still name the trusted addresses or the TLS files itself', () => {
  const env = stsRuntime.command(ctx(true, [{ name: 'STS_SIDECAR_ADDRESSES', value: '' }, { name: 'STS_TLS_CERT_FILE', value: '/certs/tls.crt' }])).env;
  assert.equal(env['STS_SIDECAR_ADDRESSES'], '');
  assert.equal(env['STS_TLS_CERT_FILE'], '/certs/tls.crt');
});
