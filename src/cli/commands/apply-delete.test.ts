/** apply, delete and create against a fake mesh: stdin here-documents, report lines, not-found handling. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../lib/errors.js';
import { FakeMesh } from '../testing/fake-mesh.js';
import { namespace } from '../testing/fixtures.js';
import { fakeLoader, runTessera } from '../testing/harness.js';

const HEREDOC = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ext-auth
spec:
  replicas: 1
---
apiVersion: v1
kind: Service
metadata:
  name: ext-auth
spec:
  ports:
  - port: 8079
`;

test('apply -n auth -f - reads stdin and reports kubectl lines', async () => {
  const m = new FakeMesh();
  const r = await runTessera(['apply', '-n', 'auth', '-f', '-'], m, { readStdin: async () => HEREDOC });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'deployment.apps/ext-auth created\nservice/ext-auth created\n', '']);
  assert.deepEqual(m.callsTo('apply')[0]![1], { namespace: 'auth' });
  const again = await runTessera(['apply', '-n', 'auth', '-f', '-'], m, { readStdin: async () => HEREDOC });
  assert.equal(again.stdout, 'deployment.apps/ext-auth unchanged\nservice/ext-auth unchanged\n');
});

test('apply takes repeated and comma-separated -f, in order', async () => {
  const seen: string[][] = [];
  const loader = fakeLoader({ 'a.yaml': 'kind: Plugin\napiVersion: plugin.flomesh.io/v1alpha1\nmetadata: {name: p}\n', 'b.yaml': 'kind: Namespace\napiVersion: v1\nmetadata: {name: n}\n', 'c.yaml': '' });
  const r = await runTessera(['apply', '-f', 'a.yaml', '--filename', 'b.yaml,c.yaml'], new FakeMesh(), {
    loadManifests: async (paths, stdin) => {
      seen.push(paths);
      return loader(paths, stdin);
    },
  });
  assert.deepEqual(seen, [['a.yaml', 'b.yaml', 'c.yaml']]);
  assert.equal(r.stdout, 'plugin.plugin.flomesh.io/p created\nnamespace/n created\n');
});

test('apply without -f is a usage error', async () => {
  const r = await runTessera(['apply'], new FakeMesh());
  assert.deepEqual([r.code, r.stderr], [1, 'error: must specify one of -f and -k\n']);
});

test('a rejected apply prints every field problem and exits 1', async () => {
  const m = new FakeMesh();
  m.apply = async () => {
    throw new MeshError('MESH_ERR_MANIFEST_INVALID', 'PluginChain curl/token-injector-chain is invalid', {
      problems: [
        { resource: 'PluginChain curl/token-injector-chain', field: 'spec.chains[0].name', message: '"outbound-htp" is not one of inbound-http, inbound-tcp, outbound-http, outbound-tcp' },
        { resource: 'PluginChain curl/token-injector-chain', field: 'spec.selectors', message: 'required' },
      ],
    });
  };
  const r = await runTessera(['apply', '-f', '-'], m, { readStdin: async () => 'kind: PluginChain\nmetadata: {name: x}\n' });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    'error: PluginChain curl/token-injector-chain is invalid\n' +
      'PluginChain curl/token-injector-chain: spec.chains[0].name: "outbound-htp" is not one of inbound-http, inbound-tcp, outbound-http, outbound-tcp\n' +
      'PluginChain curl/token-injector-chain: spec.selectors: required\n',
  );
});

test('delete -f reports quoted names', async () => {
  const m = new FakeMesh();
  await runTessera(['apply', '-n', 'auth', '-f', '-'], m, { readStdin: async () => HEREDOC });
  const r = await runTessera(['delete', '-n', 'auth', '-f', '-'], m, { readStdin: async () => HEREDOC });
  assert.deepEqual([r.code, r.stdout], [0, 'deployment.apps "ext-auth" deleted\nservice "ext-auth" deleted\n']);
});

test('delete KIND NAME..., KIND/NAME, --ignore-not-found and -l', async () => {
  const m = new FakeMesh([namespace('a'), namespace('b'), namespace('c', { team: 'x' })]);
  const r = await runTessera(['delete', 'ns', 'a', 'b'], m);
  assert.deepEqual([r.code, r.stdout], [0, 'namespace "a" deleted\nnamespace "b" deleted\n']);
  const missing = await runTessera(['delete', 'namespace/a'], m);
  assert.deepEqual([missing.code, missing.stderr], [1, 'error: namespaces "a" not found\n']);
  const ignored = await runTessera(['delete', 'namespace', 'a', '--ignore-not-found'], m);
  assert.deepEqual([ignored.code, ignored.stdout, ignored.stderr], [0, '', '']);
  const bySelector = await runTessera(['delete', 'ns', '-l', 'team=x'], m);
  assert.equal(bySelector.stdout, 'namespace "c" deleted\n');
  const noName = await runTessera(['delete', 'pods'], m);
  assert.deepEqual([noName.code, noName.stderr], [1, 'error: resource(s) were provided, but no name was specified\n']);
});

test('delete passes the namespace of -n and defaults to default', async () => {
  const m = new FakeMesh();
  await runTessera(['delete', 'pod', 'x', '-n', 'curl', '--ignore-not-found'], m);
  await runTessera(['delete', 'pod', 'y', '--ignore-not-found', '--wait=false', '--grace-period', '0', '--force'], m);
  assert.deepEqual(m.callsTo('delete').map((a) => a[2]), ['curl', 'default']);
});

test('create namespace|ns NAME, and AlreadyExists', async () => {
  const m = new FakeMesh();
  const r = await runTessera(['create', 'namespace', 'curl'], m);
  assert.deepEqual([r.code, r.stdout], [0, 'namespace/curl created\n']);
  const r2 = await runTessera(['create', 'ns', 'httpbin'], m);
  assert.equal(r2.stdout, 'namespace/httpbin created\n');
  const again = await runTessera(['create', 'ns', 'curl'], m);
  assert.deepEqual([again.code, again.stderr], [1, 'error: namespaces "curl" already exists\n']);
});
