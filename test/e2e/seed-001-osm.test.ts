/**
 * Seed 001_d131fb383f82f92a (osm-edge), run as written (real kubectl for its kubectl lines, tessera for osm) on a
 * mesh started with --mesh-name osm. Its token-verifier admits a request only when the
 * `accesstoken` header equals its PluginConfig's AccessToken; the seed's PluginConfig sets only
 * Verifier and Paths, so every request gets 403 `token verify failed` (content-length 19), before
 * and after the configs. The seed prints 200, then 401/200: outputs copied from the seed 000
 * variant, which this script does not produce (reference §4.3).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMesh, type TestMesh } from '../support/mesh.js';
import { seedText } from '../support/seeds.js';
import { heredocCommand } from '../support/seed-commands.js';
import { deploySample, podVar, waitReady } from '../support/deploy.js';

const seed = seedText('001_d131fb383f82f92a.txt');

describe('seed 001 token-verifier on --mesh-name osm', () => {
  let mesh: TestMesh;
  before(async () => {
    mesh = await startMesh('osm');
  });
  after(async () => {
    await mesh?.stop();
  });

  test('403 token verify failed (content-length 19) for /get and /headers, with and without the injected token', async () => {
    const r = await mesh.sh(
      `
      export osm_namespace=osm-system
${deploySample('curl')}
${deploySample('httpbin')}
      kubectl create namespace auth
${heredocCommand(seed, 'Deployment', 'ext-auth')}
      kubectl patch meshconfig osm-mesh-config -n "$osm_namespace" -p '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}' --type=merge
${heredocCommand(seed, 'Plugin', 'token-injector')}
${heredocCommand(seed, 'Plugin', 'token-verifier')}
${heredocCommand(seed, 'PluginChain', 'token-injector-chain')}
${heredocCommand(seed, 'PluginChain', 'token-verifier-chain')}
${waitReady([['curl', 'curl'], ['httpbin', 'httpbin']])}
${podVar('curl_pod', 'curl', 'curl')}
      code() { kubectl exec $curl_pod -n curl -c curl -- curl -s -o /dev/null -w '%{http_code}' http://httpbin.httpbin:14001$1; }
      expect() { for i in $(seq 1 60); do c=$(code $2); [ "$c" = "$1" ] && { echo "$2 $c"; return 0; }; sleep 0.25; done; echo "$2 $c (wanted $1)"; return 1; }
      # no PluginConfig yet: the seed prints 200 here; the script answers 403
      expect 403 /get
${heredocCommand(seed, 'PluginConfig', 'token-verifier-config')}
      expect 403 /get
      expect 403 /headers
${heredocCommand(seed, 'PluginConfig', 'token-injector-config')}
      sleep 1
      expect 403 /get
      echo "--- head"
      kubectl exec $curl_pod -n curl -c curl -- curl -si http://httpbin.httpbin:14001/get
      `,
      { timeoutMs: 150_000 },
    );
    assert.equal(r.code, 0, `script failed:\n${r.stdout}\n${r.stderr}`);
    const head = r.stdout.split('--- head\n')[1]!;
    assert.match(head, /^HTTP\/1\.1 403 Forbidden/);
    assert.match(head, /content-length: 19/i);
    assert.match(head, /token verify failed$/);
    assert.match(r.stdout, /^\/headers 403$/m);
  });
});
