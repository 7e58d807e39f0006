/**
 * Seed 002_0be51791b2116708 §1 ("Identity and Access Management") up to "Test communication",
 * run as written (real kubectl for its kubectl lines, tessera for fsm) with the manifest URLs replaced by the sample
 * files, on a mesh started with --mesh-name fsm. Then the native-plugin version of the rest of the
 * walkthrough (examples/iam): 200 / 401 / 200 / 200.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMesh, type TestMesh } from '../support/mesh.js';
import { printedListAfter, seedText } from '../support/seeds.js';
import { deploySample, iamWalkthrough, podVar, waitReady } from '../support/deploy.js';

const SEED = '002_0be51791b2116708.txt';

describe('seed 002 §1 on a local mesh', () => {
  let mesh: TestMesh;
  before(async () => {
    mesh = await startMesh('fsm');
  });
  after(async () => {
    await mesh?.stop();
  });

  test('deploy demo services; chains print exactly the seed lists; curl gets 200', async () => {
    const r = await mesh.sh(
      `
${deploySample('curl')}

${deploySample('httpbin')}

      sleep 2
${waitReady([['curl', 'curl'], ['httpbin', 'httpbin']])}

${podVar('curl_pod', 'curl', 'curl')}
${podVar('httpbin_pod', 'httpbin', 'httpbin')}

      echo "--- outbound-http"
      tessera proxy get config_dump -n curl $curl_pod | jq '.Chains."outbound-http"'
      echo "--- inbound-http"
      tessera proxy get config_dump -n httpbin $httpbin_pod | jq '.Chains."inbound-http"'
      echo "--- curl"
      kubectl exec $curl_pod -n curl -c curl -- curl -Is http://httpbin.httpbin:14001/get
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}`);
    const seed = seedText(SEED);
    const section = (name: string): string => r.stdout.split(`--- ${name}\n`)[1]!.split('--- ')[0]!;
    assert.deepEqual(JSON.parse(section('outbound-http')), printedListAfter(seed, `config_dump -n curl $curl_pod | jq '.Chains."outbound-http"'`));
    assert.deepEqual(JSON.parse(section('inbound-http')), printedListAfter(seed, `config_dump -n httpbin $httpbin_pod | jq '.Chains."inbound-http"'`));
    // jq pretty-prints with two spaces, exactly as the seed shows it
    assert.equal(
      section('inbound-http').trim(),
      JSON.stringify(printedListAfter(seed, `config_dump -n httpbin $httpbin_pod | jq '.Chains."inbound-http"'`), null, 2),
    );
    const curl = section('curl');
    assert.equal(curl.split('\r\n')[0], 'HTTP/1.1 200 OK');
    assert.match(curl, /server: gunicorn\/19\.9\.0/);
  });

  test('config_dump never carries a private key', async () => {
    const r = await mesh.sh(`tessera proxy get config_dump -n httpbin $(kubectl get pod -n httpbin -l app=httpbin -o jsonpath='{.items..metadata.name}')`);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /PRIVATE KEY|PrivateKey/);
  });

  test('native IAM plugins: 200 / 401 / 200 / 200, injector at 115 between circuit breaker and load balancing', async () => {
    const r = await mesh.sh(
      `
${iamWalkthrough({ tries: 50, pause: 0.2 })}
      echo "--- chain"
      tessera proxy get config_dump -n curl $curl_pod | jq -c '.Chains."outbound-http"'
      echo "--- 401 head"
kubectl apply -f - <<EOF
kind: PluginConfig
apiVersion: plugin.flomesh.io/v1alpha1
metadata:
  name: token-injector-config
  namespace: curl
spec:
  plugin: token-injector
  config: {}
  destinationRefs:
    - kind: Service
      name: httpbin
      namespace: httpbin
EOF
      expect 401 /get
      kubectl exec $curl_pod -n curl -c curl -- curl -Is http://httpbin.httpbin:14001/get
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^\/get 200$/m);
    assert.match(r.stdout, /^\/get 401$/m);
    assert.match(r.stdout, /^\/headers 200$/m);
    const chain = JSON.parse(r.stdout.split('--- chain\n')[1]!.split('\n')[0]!) as string[];
    const at = chain.indexOf('plugins/token-injector.js');
    assert.ok(at > 0, `token-injector not in ${chain.join(', ')}`);
    assert.equal(chain[at - 1], 'modules/outbound-circuit-breaker.js');
    assert.equal(chain[at + 1], 'modules/outbound-http-load-balancing.js');
    const head = r.stdout.split('--- 401 head\n')[1]!;
    assert.match(head, /HTTP\/1\.1 401 Unauthorized/);
    assert.match(head, /content-length: 13/i);
  });
});
