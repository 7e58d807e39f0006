/**
 * Issue #14 "Done when": a seed's walkthrough with real kubectl and `tessera` on `tessera up`'s
 * embedded Kubernetes API with Tessera installed into it. The local mesh is `tessera`; `tessera
 * install --mesh-name fsm --wait` runs fsm's controller, injector and bootstrap as local pods; then
 * seed 002's lines run as written in a shell (the newest kubectl and `tessera` on PATH, the mesh's
 * kubeconfig current), with `--mesh-name fsm` on `tessera namespace add` since two meshes share the
 * API: FSM's samples applied, the pods injected by fsm's webhook through the API's admission chain and
 * run by the local runtime, `kubectl exec` curl → httpbin 200 through both sidecars (mTLS, the
 * identities from the pods' ServiceAccounts, read from `kubectl logs POD -c sidecar`), then the
 * seed's IAM plugins: 200 → 401 → 200. The local mesh `tessera` keeps off fsm's namespaces.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { iamWalkthrough, podVar, waitReady } from '../support/deploy.js';
import { ok } from '../support/kube-mode.js';
import { newestKubectl, type Kubectl } from '../support/kube-mode-embedded.js';
import { kubectlBinaries, startKubectlMesh } from '../support/kubectl.js';
import type { RunResult, TestMesh } from '../support/mesh.js';
import { printedListAfter, seedText } from '../support/seeds.js';

const skip = kubectlBinaries().length === 0 ? 'seed on the embedded API: no kubectl on this machine (scripts/install-kubectl-debian.sh)' : false;
/** The seed's mesh: `fsm-mesh-config` in `fsm-system`, as its commands say. */
const MESH = 'fsm';
const NS = `${MESH}-system`;
const SEED = '002_0be51791b2116708.txt';
const namespaceMode = await decidePodNetwork('namespace').then(() => true, () => false);

/** The seed's lines deploying one of FSM's samples, joined to the installed mesh by name. */
const deployToFsm = (ns: string): string =>
  [`kubectl create namespace ${ns}`, `tessera namespace add ${ns} --mesh-name ${MESH}`, `kubectl apply -n ${ns} -f "$SAMPLES/${ns}.yaml"`].join('\n');

/**
 * Both pod networks: in namespace mode the pods are sandboxes with FSM's interception and their
 * sidecars reach fsm's controller through the gateway's controller relay.
 */
for (const podNetwork of ['loopback', 'namespace'] as const) {
  const networkSkip = skip || (podNetwork === 'namespace' && !namespaceMode ? 'namespace mode is not possible here' : false);
  describe(`seed 002 on tessera up's embedded API with fsm installed, with kubectl and tessera (${podNetwork} pod network)`, { skip: networkSkip }, () => {
    let mesh: TestMesh;
    let kubectl: Kubectl;
    /** The seed's lines in bash with the newest kubectl and `tessera` on PATH (startMesh's bin). */
    const sh = (script: string, timeoutMs = 240_000): Promise<RunResult> => mesh.sh(script, { timeoutMs });
    const detail = async (): Promise<string> => {
      const parts = [(await kubectl(['get', 'pods', '-A', '-o', 'wide'])).stdout];
      for (const c of ['controller', 'injector']) parts.push(`--- ${c} ---\n${(await kubectl(['-n', NS, 'logs', `deploy/${MESH}-${c}`, '--tail=30'])).stdout}`);
      for (const ns of ['curl', 'httpbin']) {
        const pod = (await kubectl(['get', 'pod', '-n', ns, '-l', `app=${ns}`, '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
        if (pod) parts.push(`--- sidecar of ${ns}/${pod} ---\n${(await kubectl(['logs', pod, '-n', ns, '-c', 'sidecar', '--tail=15'])).stdout}`);
      }
      return parts.join('\n');
    };

    before(async () => {
      mesh = await startKubectlMesh('tessera', ['--pod-network', podNetwork]);
      kubectl = newestKubectl(mesh)!.run;
      ok(await sh(`tessera install --mesh-name ${MESH} --timeout 2m --wait`), 'tessera install --wait');
    });

    after(async () => {
      // `tessera down` stops the local pods, the installed mesh's components among them
      await mesh?.stop();
    });

    test('seed 002: curl → httpbin through both sidecars, mTLS with the ServiceAccounts\' identities', async () => {
      const r = await sh(`
${deployToFsm('curl')}

${deployToFsm('httpbin')}

for ns in curl httpbin; do
  for i in $(seq 1 120); do [ -n "$(kubectl get pod -n $ns -l app=$ns -o name)" ] && break; sleep 0.5; done
done
${waitReady([['curl', 'curl'], ['httpbin', 'httpbin']], '120s')}

${podVar('curl_pod', 'curl', 'curl')}
${podVar('httpbin_pod', 'httpbin', 'httpbin')}
      echo "--- containers"
      kubectl get pod -n curl $curl_pod -o jsonpath='{.spec.containers[*].name}'; echo
      kubectl get pod -n httpbin $httpbin_pod -o jsonpath='{.spec.containers[*].name}'; echo
      echo "--- outbound-http"
      tessera proxy get config_dump -n curl $curl_pod | jq '.Chains."outbound-http"'
      echo "--- inbound-http"
      tessera proxy get config_dump -n httpbin $httpbin_pod | jq '.Chains."inbound-http"'
      echo "--- curl"
      # the sidecars get their snapshots asynchronously: bounded retries until the answer is 200
      for i in $(seq 1 60); do
        out=$(kubectl exec $curl_pod -n curl -c curl -- curl -sI http://httpbin.httpbin:14001/get || true)
        case "$out" in "HTTP/1.1 200"*) break;; esac
        sleep 0.5
      done
      printf '%s\\n' "$out"
      echo "--- namespaces"
      tessera namespace list --mesh-name ${MESH}
      echo "--- httpbin sidecar"
      kubectl logs $httpbin_pod -n httpbin -c sidecar
      echo "--- curl sidecar"
      kubectl logs $curl_pod -n curl -c sidecar
      echo "--- controller"
      kubectl logs -n ${NS} deploy/${MESH}-controller
      echo "--- end"
`);
      assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}\n${await detail()}`);
      const section = (name: string): string => r.stdout.split(`--- ${name}\n`)[1]!.split('\n--- ')[0]!;
      assert.match(r.stdout, /Namespace \[curl\] successfully added to mesh \[fsm\]/);
      assert.match(r.stdout, /Namespace \[httpbin\] successfully added to mesh \[fsm\]/);
      // `tessera proxy get config_dump` reaches fsm's sidecars through the API's pod proxy: the seed's chains
      const seed = seedText(SEED);
      assert.deepEqual(JSON.parse(section('outbound-http')), printedListAfter(seed, `config_dump -n curl $curl_pod | jq '.Chains."outbound-http"'`));
      assert.deepEqual(JSON.parse(section('inbound-http')), printedListAfter(seed, `config_dump -n httpbin $httpbin_pod | jq '.Chains."inbound-http"'`));
      // one sidecar each: fsm's webhook injected them, the local mesh added none
      assert.deepEqual(section('containers').trim().split('\n'), ['curl sidecar', 'httpbin sidecar'], 'fsm\'s webhook injected each pod once');
      const curl = section('curl');
      assert.equal(curl.split('\r\n')[0], 'HTTP/1.1 200 OK', `${curl}\n${await detail()}`);
      assert.match(curl, /server: gunicorn\/19\.9\.0/);
      assert.match(section('namespaces'), /curl\s+fsm\s+enabled/);
      assert.match(section('namespaces'), /httpbin\s+fsm\s+enabled/);

      // The request crossed both sidecars as mTLS: httpbin's sidecar authenticated curl's identity.
      assert.match(section('httpbin sidecar'), /"direction":"inbound"[^\n]*"sourceService":"curl\.curl"[^\n]*"status":200/, `httpbin's sidecar saw curl's identity:\n${section('httpbin sidecar')}`);
      assert.match(section('curl sidecar'), /"direction":"outbound"[^\n]*"status":200/, 'curl\'s own sidecar carried the request out');
      // Both sidecars bootstrapped against fsm's controller with their pods' ServiceAccount tokens.
      const controller = section('controller');
      assert.match(controller, /"certificate issued","proxy":"curl\/[^"]+","identity":"curl\.curl"/);
      assert.match(controller, /"certificate issued","proxy":"httpbin\/[^"]+","identity":"httpbin\.httpbin"/);
      assert.match(controller, /"proxy connected","proxy":"curl\/[^"]+","auth":"serviceaccount","identity":"curl\.curl"/);
      assert.match(controller, /"proxy connected","proxy":"httpbin\/[^"]+","auth":"serviceaccount","identity":"httpbin\.httpbin"/);

      // The FSM labels and annotation on the Namespace objects.
      const ns = JSON.parse(ok(await kubectl(['get', 'namespace', 'httpbin', '-o', 'json']), 'get namespace')) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
      assert.equal(ns.metadata.labels['flomesh.io/monitored-by'], MESH);
      assert.equal(ns.metadata.annotations['flomesh.io/sidecar-injection'], 'enabled');
      // The local mesh `tessera` keeps off fsm's namespaces: none of its proxies is in them.
      const local = JSON.parse(ok(await mesh.tessera(['proxy', 'status', '-o', 'json']), 'tessera proxy status (the local mesh)')) as { namespace: string; pod: string }[];
      assert.deepEqual(local.filter((p) => p.namespace === 'curl' || p.namespace === 'httpbin'), [], 'the local mesh serves no proxy of fsm\'s namespaces');
      const configMaps = ok(await kubectl(['get', 'configmaps', '-n', 'curl', '-o', 'name']), 'configmaps of curl');
      assert.match(configMaps, /^configmap\/fsm-ca-root-cert$/m, 'fsm\'s controller keeps its CA in the namespace');
      assert.doesNotMatch(configMaps, /tessera-ca-root-cert/, 'the local mesh\'s controller does not');
      assert.equal(ok(await mesh.tessera(['namespace', 'list', '--mesh-name', 'tessera']), 'the local mesh\'s namespaces').trim(), 'No namespace in mesh [tessera]');
    });

    test('seed 002: the IAM plugins applied with kubectl: 200 → 401 → 200', async () => {
      const r = await sh(`${iamWalkthrough({
        tries: 60, pause: 0.5, readyTimeout: '120s', tolerateExecErrors: true,
        extAuthWait: 'for i in $(seq 1 120); do [ -n "$(kubectl get pod -n auth -l app=ext-auth -o name)" ] && break; sleep 0.5; done',
      })}
      echo "--- chain"
      tessera proxy get config_dump -n curl $curl_pod | jq -c '.Chains."outbound-http"'
`);
      assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}\n${await detail()}`);
      assert.match(r.stdout, /^\/get 200$/m);
      assert.match(r.stdout, /^\/get 401$/m);
      assert.match(r.stdout, /^\/headers 200$/m);
      assert.match(r.stdout, /^\/get 200$/m);
      // 200 → 401 → 200 in that order
      const order = [...r.stdout.matchAll(/^\/(?:get|headers) (\d+)$/gm)].map((m) => m[1]);
      assert.deepEqual(order, ['200', '401', '200', '200']);
      // fsm's controller mounted the plugin in curl's outbound chain
      const chain = JSON.parse(r.stdout.split('--- chain\n')[1]!.split('\n')[0]!) as string[];
      assert.ok(chain.includes('plugins/token-injector.js'), `token-injector not in ${chain.join(', ')}`);
    });
  });
}
