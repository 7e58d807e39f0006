import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import { mutatePod } from '../injector/mutation.js';
import { clusterBootstrap } from '../injector/sidecar-spec.js';
import { SIDECAR_ENV } from '../local/layout.js';
import { SIDECAR_CONTAINER } from '../local/runtime/builtin-runtimes.js';
import { runtimeFor } from '../local/runtime/images.js';
import type { ContainerContext } from '../local/runtime/types.js';
import { SIDECAR_TRANSPARENT_ENV } from '../sidecar/listeners/transparent.js';
import { sidecarForNode } from './pods.js';

/** A pod as the Kubernetes injector (AdmissionReview path) leaves it: the cluster bootstrap in the sidecar's env. */
function injectedPod(): Pod {
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', uid: 'c0ffee00-0000-4000-8000-000000000001' },
    spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'flomesh/httpbin:ken', ports: [{ containerPort: 14001 }] }] },
  } as Pod;
  const ns = { name: 'shop', labels: { 'flomesh.io/monitored-by': 'fsm' }, annotations: { 'flomesh.io/sidecar-injection': 'enabled' } };
  const result = mutatePod(pod, ns, 'fsm', { bootstrap: clusterBootstrap('fsm') });
  assert.equal(result.injected, true);
  return result.pod;
}

function context(pod: Pod, sandbox: boolean): ContainerContext {
  return {
    pod: pod as ContainerContext['pod'], container: pod.spec!.containers.find((c) => c.name === SIDECAR_CONTAINER)!,
    meshName: 'fsm', block: 77, meshKey: new Uint8Array(32).fill(7), stateDir: '/tmp/node-root', workdir: '/tmp',
    podIP: sandbox ? '10.224.0.5' : '127.77.1.5', appAddress: sandbox ? '127.0.0.1' : '127.77.65.5', hasSidecar: true,
    ...(sandbox ? { sandbox: { gateway: '10.224.0.1', sidecarDataDir: '/var/run/tessera/sidecar', caFile: '/var/run/tessera/pki/ca.crt' } } : {}),
  };
}

test('a cluster-injected sidecar on the node: no minted proxy token; the bootstrap from its spec; the controller at --controller-url', () => {
  const pod = injectedPod();
  const base = runtimeFor(pod.spec!.containers[1]!, pod)!;
  const url = 'https://127.0.0.1:46060';

  // namespace mode: the spec's env as a kubelet starts it; the controller through the relay on the gateway
  const inPod = sidecarForNode(base, url, '10.224.0.1').command(context(pod, true)).env;
  assert.equal(inPod[SIDECAR_ENV.proxyToken], undefined, 'no token minted with the mesh key');
  assert.equal(inPod[SIDECAR_ENV.proxyTokenFile], '/var/run/secrets/tessera/token/token');
  assert.equal(inPod[SIDECAR_ENV.controllerCa], '/var/run/tessera/ca/ca.crt');
  assert.equal(inPod[SIDECAR_ENV.controllerUrl], 'https://10.224.0.1:46060');
  assert.equal(inPod[SIDECAR_ENV.controllerServerName], '127.0.0.1');
  assert.equal(inPod[SIDECAR_ENV.localIP], '127.0.0.1');
  assert.equal(inPod[SIDECAR_ENV.podIP], '10.224.0.5', 'the downward API resolved');
  assert.equal(inPod[SIDECAR_ENV.podUID], pod.metadata.uid);
  assert.equal(inPod[SIDECAR_TRANSPARENT_ENV], '15003');

  // loopback mode: only the bootstrap from the spec; the runtime's addresses, data directory and no transparent listener
  const loop = sidecarForNode(base, url, undefined).command(context(pod, false)).env;
  assert.equal(loop[SIDECAR_ENV.proxyToken], undefined);
  assert.equal(loop[SIDECAR_ENV.proxyTokenFile], '/var/run/secrets/tessera/token/token', 'rewritten to the volume by the runner (withMounts)');
  assert.equal(loop[SIDECAR_ENV.controllerCa], '/var/run/tessera/ca/ca.crt');
  assert.equal(loop[SIDECAR_ENV.controllerUrl], url);
  assert.equal(loop[SIDECAR_ENV.controllerServerName], undefined);
  assert.equal(loop[SIDECAR_ENV.localIP], '127.77.65.5', 'the app\'s own loopback address, not the spec\'s 127.0.0.1');
  assert.equal(loop[SIDECAR_ENV.dataDir], '/tmp/node-root/pods/shop/web-1', 'the node\'s pod directory, not the injected emptyDir');
  assert.equal(loop[SIDECAR_TRANSPARENT_ENV], undefined, 'no interception in loopback mode: no transparent listener on 0.0.0.0:15003');

  // without --controller-url: the Service URL the injector wrote
  assert.equal(sidecarForNode(base, undefined, undefined).command(context(pod, false)).env[SIDECAR_ENV.controllerUrl], 'https://fsm-controller.fsm-system.svc:6060');
});
