/**
 * Bad input changes nothing: each exits non-zero with a message naming the resource and field,
 * stores nothing, and leaves the running mesh (and its traffic) as it was.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_SERVICES } from '../support/deploy.js';
import { podOf, startMesh, type TestMesh } from '../support/mesh.js';

const CHAIN = (chainName: string, extra = ''): string => `kind: PluginChain
apiVersion: plugin.flomesh.io/v1alpha1
metadata:
  name: token-injector-chain
  namespace: curl
spec:
  chains:
    - name: ${chainName}
      plugins:
        - token-injector
  selectors:
    podSelector:
      matchLabels:
        app: curl
${extra}`;

const PLUGIN = (priority: string, script = "export default { onRequest() {} };"): string => `kind: Plugin
apiVersion: plugin.flomesh.io/v1alpha1
metadata:
  name: token-injector
spec:
  priority: ${priority}
  script: |
    ${script.split('\n').join('\n    ')}
`;

describe('bad input is refused and changes nothing', () => {
  let mesh: TestMesh;
  let curlPod = '';
  before(async () => {
    mesh = await startMesh('tessera');
    const r = await mesh.sh(`
      tessera patch meshconfig tessera-mesh-config -n tessera-system -p '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}' --type=merge
${DEMO_SERVICES}
    `, { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    curlPod = (await podOf(mesh, 'curl', 'curl')).name;
  });
  after(async () => {
    await mesh?.stop();
  });

  const refused = async (manifest: string, expect: RegExp): Promise<void> => {
    const r = await mesh.tessera(['apply', '-f', '-'], { input: manifest });
    assert.notEqual(r.code, 0, `apply should fail:\n${r.stdout}`);
    assert.match(r.stderr, expect);
    assert.doesNotMatch(r.stdout, /created|configured/);
  };

  const nothingStored = async (): Promise<void> => {
    for (const [kind, ns] of [['plugins', ''], ['pluginchains', 'curl'], ['pluginconfigs', 'curl']] as const) {
      const r = await mesh.tessera(['get', kind, ...(ns ? ['-n', ns] : []), '-o', 'name']);
      assert.equal(r.stdout.trim(), '', `${kind} should be empty, got ${r.stdout}`);
    }
  };

  const trafficFlows = async (): Promise<void> => {
    const r = await mesh.tessera(['exec', curlPod, '-n', 'curl', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://httpbin.httpbin:14001/get']);
    assert.equal(r.stdout, '200');
  };

  test('a misspelled chain name', async () => {
    await refused(
      CHAIN('outbound-htp'),
      /PluginChain curl\/token-injector-chain: spec\.chains\[0\]\.name: "outbound-htp" is not one of inbound-http, inbound-tcp, outbound-http, outbound-tcp/,
    );
    await nothingStored();
    await trafficFlows();
  });

  test('priority 70000', async () => {
    await refused(PLUGIN('70000'), /Plugin token-injector: spec\.priority: 70000 is out of range 0-65535/);
    await nothingStored();
  });

  test('a missing required field', async () => {
    await refused(
      `kind: PluginConfig
apiVersion: plugin.flomesh.io/v1alpha1
metadata:
  name: c
  namespace: curl
spec:
  config: {}
  destinationRefs:
    - kind: Service
      name: httpbin
`,
      /PluginConfig curl\/c: spec\.plugin: required field is missing/,
    );
    await nothingStored();
  });

  test('an unknown kind', async () => {
    await refused(`kind: PluginChainz\napiVersion: plugin.flomesh.io/v1alpha1\nmetadata:\n  name: x\n`, /no matches for kind "PluginChainz"/);
  });

  test('malformed YAML names the source, document and line', async () => {
    await refused(`kind: Plugin\nmetadata:\n  name: [unclosed\n`, /-.*line \d+/);
    await nothingStored();
  });

  test('a multi-document file with one bad document applies nothing', async () => {
    await refused(`${PLUGIN('115')}---\n${CHAIN('outbound-http')}---\n${CHAIN('inbound-htp').replace('token-injector-chain', 'other-chain')}`, /PluginChain curl\/other-chain: spec\.chains\[0\]\.name/);
    await nothingStored();
    await trafficFlows();
  });

  test('a plugin script that does not compile is refused with file, line and column', async () => {
    await refused(PLUGIN('115', 'export default {\n  onRequest(ctx) {\n    const x: number = ;\n  }\n};'), /Plugin token-injector: spec\.script: plugins\/token-injector\.ts:3:\d+: /);
    await nothingStored();
  });

  test('an image with no local runtime is refused with a clear message', async () => {
    const r = await mesh.tessera(['apply', '-n', 'curl', '-f', '-'], {
      input: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.25
`,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nginx/);
    assert.match(r.stderr, /local\.tessera\.dev\/command/);
    const d = await mesh.tessera(['get', 'deploy', 'web', '-n', 'curl']);
    assert.notEqual(d.code, 0);
  });

  test('the mesh still serves after all of the above', async () => {
    await trafficFlows();
  });
});
