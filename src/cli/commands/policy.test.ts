/** `tessera policy check` against a fake mesh: the pod's config_dump, svc/NAME, text and json output, warnings, usage errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../api/types.js';
import { FakeMesh } from '../testing/fake-mesh.js';
import { httpbinPod, httpbinService, namespace, pendingPod, pod } from '../testing/fixtures.js';
import { runTessera } from '../testing/harness.js';

const snapshot = {
  Spec: { ServiceIdentity: 'httpbin.httpbin', SidecarDisabledMTLS: false },
  Inbound: {
    TrafficMatches: { '14001': {} },
    Authz: { Policies: [
      { Name: 'httpbin/no-delete', Action: 'DENY', Rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] },
      { Name: 'httpbin/from-curl', Action: 'ALLOW', Rules: [{ from: [{ source: { principals: ['cluster.local/ns/curl/sa/curl', 'cluster.local/ns/curl/sa/ghost'] } }] }] },
    ] },
  },
};
const fromCurl: Resource = {
  apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'from-curl', namespace: 'httpbin' },
  spec: { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/curl/sa/curl', 'cluster.local/ns/curl/sa/ghost'] } }] }] },
};

function mesh(): FakeMesh {
  const m = new FakeMesh([namespace('httpbin'), namespace('curl'), httpbinService, httpbinPod, pendingPod, pod('curl-1', 'curl', { app: 'curl' }, '127.7.1.9'), fromCurl]);
  m.proxyAnswers.set(`httpbin/${httpbinPod.metadata.name}/config_dump`, { status: 200, contentType: 'application/json', body: JSON.stringify(snapshot) });
  return m;
}

test('policy check svc/NAME: a ready pod of the service; text output names the policy, rule and condition, and the warnings', async () => {
  const r = await runTessera(['policy', 'check', 'svc/httpbin', '-n', 'httpbin', '--source-identity', 'other.curl'], mesh());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^POD\\s+httpbin/${httpbinPod.metadata.name}$`, 'm'));
  assert.match(r.stdout, /^DECISION\s+denied \(403\)$/m);
  assert.match(r.stdout, /^POLICY\s+httpbin\/from-curl rule 0$/m);
  assert.match(r.stdout, /^CONDITION\s+from\[0\]\.source\.principals \(not satisfied\)$/m);
  assert.match(r.stdout, /^PRINCIPAL\s+cluster\.local\/ns\/curl\/sa\/other$/m);
  assert.match(r.stdout, /^WARNINGS\n {2}AuthorizationPolicy httpbin\/from-curl: spec\.rules\[0\]\.from\[0\]\.source\.principals\[1\]: "cluster\.local\/ns\/curl\/sa\/ghost" names service account "ghost", which does not exist in namespace "curl"$/m);
});

test('policy check -o json: the decision as one object', async () => {
  const m = mesh();
  const r = await runTessera(['policy', 'check', httpbinPod.metadata.name, '-n', 'httpbin', '--method', 'DELETE', '--path', '/x', '--source-identity', 'curl.curl', '-o', 'json'], m);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual([out['decision'], out['status'], out['policy'], out['rule'], out['port']], ['denied', 403, 'httpbin/no-delete', 0, 14001]);
  const ok = JSON.parse((await runTessera(['policy', 'check', httpbinPod.metadata.name, '-n', 'httpbin', '--source-identity', 'curl.curl', '-o', 'json'], m)).stdout) as Record<string, unknown>;
  assert.deepEqual([ok['decision'], ok['policy'], ok['rule']], ['allowed', 'httpbin/from-curl', 0]);
});

test('policy check usage errors', async () => {
  const m = mesh();
  const run = (args: string[]) => runTessera(['policy', 'check', httpbinPod.metadata.name, '-n', 'httpbin', ...args], m);
  assert.match((await run(['--token', 'a', '--token-file', 'f'])).stderr, /give --token or --token-file, not both/);
  assert.match((await run(['--source-identity', 'a.b', '--source-ip', '1.2.3.4'])).stderr, /not both/);
  assert.match((await run(['-H', 'nocolon'])).stderr, /expected "name: value"/);
  assert.match((await run(['--port', '70000'])).stderr, /not a port number/);
  assert.match((await run(['--path', 'x'])).stderr, /must start with \//);
  assert.match((await run(['-o', 'yaml'])).stderr, /only json/);
});
