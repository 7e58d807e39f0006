/**
 * Seed 002_0be51791b2116708, every walkthrough with the PipyJS plugins as written: real kubectl for
 * its kubectl lines, tessera for fsm, on a mesh started with --mesh-name fsm, manifest URLs replaced by the sample
 * files, here-documents taken from the seed text. §3 uses a 1 s fixedDelay instead of 5 s.
 * §3–§5 run in namespace pipy, which the seed adds to the mesh (`fsm namespace add pipy`) before
 * deploying pipy-ok: without it pipy-ok has no sidecar, so no inbound plugin (fault injection,
 * CORS) runs and the caller's sidecar has no `pipy/pipy-ok-v2|8080` cluster to mirror to.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMesh, type TestMesh } from '../support/mesh.js';
import { printedListAfter, seedText } from '../support/seeds.js';
import { heredocCommand, seedSection } from '../support/seed-commands.js';
import { deploySample, podVar, waitReady } from '../support/deploy.js';

const SEED = '002_0be51791b2116708.txt';
const seed = seedText(SEED);
const iam = seedSection(seed, '1 - Identity and Access Management');
const headers = seedSection(seed, '2 - HTTP Header Modifier');
const fault = seedSection(seed, '3 - Fault Injection');
const mirror = seedSection(seed, '4 - Traffic Mirroring');
const cors = seedSection(seed, '5 - Cross-Origin Resource Sharing');

const PRELUDE = `
export fsm_namespace=fsm-system
curl_pod() { kubectl get pod -n curl -l app=curl -o jsonpath='{.items[0].metadata.name}'; }
# snapshots reach sidecars asynchronously: retry until the expected status shows (bounded)
expect() { local want=$1; shift; for i in $(seq 1 60); do c=$(kubectl exec $(curl_pod) -n curl -c curl -- curl -s -o /dev/null -w '%{http_code}' "$@"); [ "$c" = "$want" ] && { echo "$want $*"; return 0; }; sleep 0.25; done; echo "got $c, wanted $want: $*"; return 1; }
`;

describe('seed 002 PipyJS walkthroughs', () => {
  let mesh: TestMesh;
  const sh = async (script: string, timeoutMs = 120_000): Promise<string> => {
    const r = await mesh.sh(PRELUDE + script, { timeoutMs });
    assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    mesh = await startMesh('fsm');
  });
  after(async () => {
    await mesh?.stop();
  });

  test('§1 IAM with the pipyscript plugins: chains as printed, 200 → 401 (content-length 13) on /get, 200 on /headers → 200', async () => {
    const out = await sh(`
${deploySample('curl')}
${deploySample('httpbin')}
      kubectl create namespace auth
${heredocCommand(iam, 'Deployment', 'ext-auth')}
      kubectl patch meshconfig fsm-mesh-config -n "$fsm_namespace" -p '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}' --type=merge
${heredocCommand(iam, 'Plugin', 'token-injector')}
${heredocCommand(iam, 'Plugin', 'token-verifier')}
${heredocCommand(iam, 'PluginChain', 'token-injector-chain')}
${heredocCommand(iam, 'PluginChain', 'token-verifier-chain')}
${waitReady([['curl', 'curl'], ['httpbin', 'httpbin'], ['auth', 'ext-auth']])}
${podVar('curl_pod', 'curl', 'curl')}
${podVar('httpbin_pod', 'httpbin', 'httpbin')}
      sleep 1
      echo "--- outbound-http"
      tessera proxy get config_dump -n curl $curl_pod | jq -c '.Chains."outbound-http"'
      echo "--- inbound-http"
      tessera proxy get config_dump -n httpbin $httpbin_pod | jq -c '.Chains."inbound-http"'
      echo "--- steps"
      expect 200 http://httpbin.httpbin:14001/get
${heredocCommand(iam, 'PluginConfig', 'token-verifier-config')}
      expect 401 http://httpbin.httpbin:14001/get
      echo "--- 401 head"
      kubectl exec $curl_pod -n curl -c curl -- curl -Is http://httpbin.httpbin:14001/get
      echo "--- more"
      expect 200 http://httpbin.httpbin:14001/headers
${heredocCommand(iam, 'PluginConfig', 'token-injector-config')}
      expect 200 http://httpbin.httpbin:14001/get
    `);
    const part = (name: string): string => out.split(`--- ${name}\n`)[1]!.split('\n')[0]!;
    const printed = (pod: string, chain: string): string[] => printedListAfter(seed, `config_dump -n ${pod} $${pod}_pod | jq '.Chains."${chain}"'`, 1);
    assert.deepEqual(JSON.parse(part('outbound-http')), printed('curl', 'outbound-http'));
    assert.deepEqual(JSON.parse(part('inbound-http')), printed('httpbin', 'inbound-http'));
    const head = out.split('--- 401 head\n')[1]!.split('--- more')[0]!;
    assert.match(head, /^HTTP\/1\.1 401 Unauthorized/);
    assert.match(head, /content-length: 13/i);
    assert.match(out, /^200 http:\/\/httpbin.httpbin:14001\/headers$/m);
  });

  test('§2 header modifier: version:v2 → X-Canary-Tag: v2 and no Version at the app, x-canary: true on the response', async () => {
    const out = await sh(`
      kubectl create namespace pipy
${heredocCommand(headers, 'PluginChain', 'header-modifier-chain')}
      kubectl apply -f "$SAMPLES/plugins-header-modifier.yaml"
${heredocCommand(headers, 'PluginConfig', 'header-modifier-config')}
      curl_client="$(kubectl get pod -n curl -l app=curl -o jsonpath='{.items[0].metadata.name}')"
      for i in $(seq 1 60); do r=$(kubectl exec \${curl_client} -n curl -c curl -- curl -ksi http://httpbin.httpbin:14001/headers -H "version:v2"); echo "$r" | grep -q '^x-canary: true' && break; sleep 0.25; done
      echo "$r"
      echo "--- without"
      kubectl exec \${curl_client} -n curl -c curl -- curl -ksi http://httpbin.httpbin:14001/headers
    `);
    const [withHeader, without] = out.split('--- without\n') as [string, string];
    assert.match(withHeader, /^x-canary: true\r?$/m);
    assert.match(withHeader, /"X-Canary-Tag": "v2"/);
    assert.doesNotMatch(withHeader, /"Version"/);
    assert.doesNotMatch(without, /x-canary/i);
  });

  test('§3 fault injection: 200 at once or 400 after the delay; with percentage 1.0 every request is 400 after the delay', async () => {
    const config = heredocCommand(fault, 'PluginConfig', 'http-fault-injection-config');
    assert.match(config, /fixedDelay: 5s/);
    const out = await sh(`
      tessera namespace add pipy
      kubectl apply -n pipy -f "$SAMPLES/plugins-pipy-ok.pipy.yaml"
      kubectl wait --for=condition=ready pod -n pipy -l app=pipy-ok -l version=v1 --timeout=90s
      kubectl wait --for=condition=ready pod -n pipy -l app=pipy-ok -l version=v2 --timeout=90s
      kubectl apply -f "$SAMPLES/plugins-fault-injection.yaml"
${heredocCommand(fault, 'PluginChain', 'http-fault-injection-chain')}
${config.replace('fixedDelay: 5s', 'fixedDelay: 1s')}
      curl_client="$(kubectl get pod -n curl -l app=curl -o jsonpath='{.items[0].metadata.name}')"
      probe() { kubectl exec \${curl_client} -n curl -c curl -- curl -s -o /dev/null -w '%{http_code} %{time_total}\\n' http://pipy-ok.pipy:8080; }
      for i in $(seq 1 80); do r=$(probe); case "$r" in 400*) break;; esac; sleep 0.25; done
      echo "--- half"
      for i in $(seq 1 12); do probe; done
      echo "--- percentage 1.0"
${config.replace('fixedDelay: 5s', 'fixedDelay: 1s').replace(/value: 0\.5/g, 'value: 1.0')}
      # a 400 alone could still come from the 50 % config: wait until both pipy-ok sidecars hold 1.0
      synced() { for p in $(kubectl get pod -n pipy -l app=pipy-ok -o jsonpath='{.items[*].metadata.name}'); do tessera proxy get config_dump -n pipy $p | jq -e '[.Inbound.TrafficMatches[]?.HttpServiceRouteRules[]?.Plugins["http-fault-injection"]?.abort.percentage.value] | any(. == 1)' > /dev/null || return 1; done; }
      for i in $(seq 1 80); do synced && break; sleep 0.25; done
      echo "--- all"
      for i in 1 2 3; do probe; done
    `);
    const rows = (part: string): [number, number][] => part.trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number) as [number, number]);
    const half = rows(out.split('--- half\n')[1]!.split('--- percentage 1.0\n')[0]!);
    assert.equal(half.length, 12, out);
    for (const [status, secs] of half) {
      if (status === 200) assert.ok(secs < 0.9, `200 after ${secs}s`);
      else {
        assert.equal(status, 400);
        assert.ok(secs >= 0.95, `400 after ${secs}s`);
      }
    }
    const all = rows(out.split('--- all\n')[1]!);
    assert.equal(all.length, 3, out);
    for (const [status, secs] of all) {
      assert.equal(status, 400);
      assert.ok(secs >= 0.95);
    }
  });

  test('§4 traffic mirror: the client gets v1; v2’s log shows the mirrored request', async () => {
    const out = await sh(`
      kubectl delete pluginchain http-fault-injection-chain -n pipy
      kubectl apply -f "$SAMPLES/plugins-traffic-mirror.yaml"
${heredocCommand(mirror, 'PluginChain', 'traffic-mirror-chain')}
${heredocCommand(mirror, 'PluginConfig', 'traffic-mirror-config')}
      curl_client="$(kubectl get pod -n curl -l app=curl -o jsonpath='{.items[0].metadata.name}')"
      pipy_ok_v2="$(kubectl get pod -n pipy -l app=pipy-ok,version=v2 -o jsonpath='{.items[0].metadata.name}')"
      for i in $(seq 1 60); do
        kubectl exec \${curl_client} -n curl -c curl -- curl -ksi http://pipy-ok-v1.pipy:8080/mirror-check-$i > /tmp/mirror-$$ || true
        sleep 0.2
        kubectl logs pod/\${pipy_ok_v2} -n pipy -c pipy | grep -q "GET /mirror-check-" && break
      done
      cat /tmp/mirror-$$; rm -f /tmp/mirror-$$
      echo "--- v2 log"
      kubectl logs pod/\${pipy_ok_v2} -n pipy -c pipy
    `);
    const [client, log] = out.split('--- v2 log\n') as [string, string];
    assert.match(client, /Hi, I am PIPY-OK v1!/);
    assert.match(log, /"GET \/mirror-check-\d+ HTTP\/1\.1" 200 20/);
  });

  test('§5 CORS: GET and OPTIONS carry the seed’s headers; a non-matching origin gets none', async () => {
    const out = await sh(`
      kubectl apply -f "$SAMPLES/plugins-cors.yaml"
${heredocCommand(cors, 'PluginChain', 'cors-policy-chain')}
${heredocCommand(cors, 'PluginConfig', 'cors-policy-config')}
      curl_client="$(kubectl get pod -n curl -l app=curl -o jsonpath='{.items[0].metadata.name}')"
      for i in $(seq 1 60); do r=$(kubectl exec \${curl_client} -n curl -c curl -- curl -ksi http://pipy-ok.pipy:8080 -H "Origin: http://www.bbb.com"); echo "$r" | grep -q '^access-control-allow-origin' && break; sleep 0.25; done
      echo "$r"
      echo "--- options"
      kubectl exec \${curl_client} -n curl -c curl -- curl -ksi http://pipy-ok.pipy:8080 -H "Origin: http://www.bbb.com" -X OPTIONS
      echo "--- evil"
      kubectl exec \${curl_client} -n curl -c curl -- curl -ksi http://pipy-ok.pipy:8080 -H "Origin: http://evil.com" -X OPTIONS
    `);
    const [get, rest] = out.split('--- options\n') as [string, string];
    const [options, evil] = rest.split('--- evil\n') as [string, string];
    const headerSet = (text: string): Set<string> => new Set(text.split(/\r?\n/).filter((l) => l.startsWith('access-control-')).map((l) => l.trim()));
    const printedBlock = (after: string): Set<string> => headerSet(cors.slice(cors.indexOf('You will see response similar to:', cors.indexOf(after))));
    // Service pipy-ok selects both pipy-ok-v1 and pipy-ok-v2 (app: pipy-ok), so the seed's printed
    // v1 body is one of two answers ("similar to"); what §5 checks is the CORS headers on either.
    assert.match(get, /Hi, I am PIPY-OK v[12]!/);
    const printedGet = [...printedBlock('-H "Origin: http://www.bbb.com"\n')].slice(0, 3);
    assert.deepEqual(headerSet(get), new Set(printedGet));
    assert.deepEqual(headerSet(options), printedBlock('-X OPTIONS'));
    assert.match(options, /content-length: 0/i);
    assert.equal(headerSet(evil).size, 0);
  });
});
