/**
 * Issue #20 item 1 on a running mesh: a PipyJS plugin in the curl pod's sidecar answers what its
 * script sees as `os.env` and whether `pipy.constructor('return process')()` gives it the sidecar's
 * process. The env holds the sidecar container's env from the pod spec (pod name, mesh name, …) and
 * neither the proxy token nor the admin token the runtime hands the sidecar process. (The curl pod
 * sends through its HTTP proxy, so the path a script sees may be in absolute form.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMesh, type TestMesh } from '../support/mesh.js';
import { DEMO_SERVICES, podVar } from '../support/deploy.js';

const PLUGIN = `
kubectl patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}' --type=merge
kubectl apply -f - <<EOF
kind: Plugin
apiVersion: plugin.flomesh.io/v1alpha1
metadata:
  name: probe
spec:
  priority: 115
  pipyscript: |+
    (
    pipy()
    .pipeline()
    .replaceMessage(
      msg => (
        msg.head.path.endsWith('/pipyjs/env') ? new Message({ status: 200 }, JSON.stringify(os.env)) :
        msg.head.path.endsWith('/pipyjs/process') ? new Message({ status: 200 }, (() => {
          try {
            const p = pipy.constructor('return process')();
            return p && typeof p.pid === 'number' ? 'escaped ' + p.pid : 'confined';
          } catch (e) {
            return 'confined ' + e.name;
          }
        })()) :
        msg
      )
    )
    )
---
kind: PluginChain
apiVersion: plugin.flomesh.io/v1alpha1
metadata:
  name: probe-chain
  namespace: curl
spec:
  chains:
    - name: outbound-http
      plugins:
        - probe
  selectors:
    podSelector:
      matchLabels:
        app: curl
EOF
`;

describe('PipyJS scripts in a sidecar are confined', () => {
  let mesh: TestMesh;
  before(async () => {
    mesh = await startMesh('fsm');
  });
  after(async () => {
    await mesh?.stop();
  });

  test('os.env is the pod spec env of the sidecar, without the proxy or admin token; process is out of reach', async () => {
    const r = await mesh.sh(`
${DEMO_SERVICES}
${PLUGIN}
${podVar('curl_pod', 'curl', 'curl')}
      for i in $(seq 1 80); do
        env=$(kubectl exec $curl_pod -n curl -c curl -- curl -s http://httpbin.httpbin:14001/pipyjs/env)
        case "$env" in *TESSERA_POD_NAME*) break ;; esac
        sleep 0.25
      done
      echo "--- env"
      echo "$env"
      echo "--- process"
      kubectl exec $curl_pod -n curl -c curl -- curl -s http://httpbin.httpbin:14001/pipyjs/process
      echo
      echo "--- pod"
      echo "$curl_pod"
      echo "--- chain"
      tessera proxy get config_dump -n curl $curl_pod | jq -c '.Chains."outbound-http"'
    `, { timeoutMs: 180_000 });
    assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout.split('--- chain\n')[1] ?? '', /plugins\/probe\.js/, r.stdout);
    const part = (name: string): string => r.stdout.split(`--- ${name}\n`)[1]!.split('\n')[0]!;
    const env = JSON.parse(part('env')) as Record<string, string>;
    assert.equal(env['TESSERA_POD_NAME'], part('pod'), JSON.stringify(env));
    assert.equal(env['TESSERA_POD_NAMESPACE'], 'curl');
    assert.equal(env['TESSERA_MESH_NAME'], 'fsm');
    for (const name of ['TESSERA_PROXY_TOKEN', 'TESSERA_ADMIN_TOKEN', 'TESSERA_SCRIPT_ENV', 'PATH', 'HOME']) {
      assert.equal(env[name], undefined, `${name} is in a script's os.env`);
    }
    // a proxy token reads ISSUED.EXPIRES.MAC in seconds (layout.ts proxyToken); pod IPs have short numbers
    assert.ok(!Object.values(env).some((v) => /^\d{9,12}\.\d{9,12}\.[A-Za-z0-9_-]{16,}$/.test(v)), 'a value shaped like a proxy token is in os.env');
    assert.match(part('process'), /^confined/);
  });
});
