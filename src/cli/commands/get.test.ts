/** `get` end to end through commander against a fake mesh: argument forms, namespaces, output formats. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeMesh } from '../testing/fake-mesh.js';
import { caSecret, curlPod, httpbinPod, pendingPod, tokenInjector } from '../testing/fixtures.js';
import { runTessera } from '../testing/harness.js';

const mesh = (): FakeMesh => new FakeMesh([curlPod, httpbinPod, pendingPod, tokenInjector, caSecret]);

test("get pod -n curl -l app=curl -o jsonpath='{.items..metadata.name}' (the seed's form)", async () => {
  const m = mesh();
  const r = await runTessera(['get', 'pod', '-n', 'curl', '-l', 'app=curl', '-o', "jsonpath='{.items..metadata.name}'"], m);
  assert.deepEqual(r, { code: 0, stdout: 'curl-7d8f9c6b5d-x2x7q', stderr: '', connectedTo: ['/work/here/.tessera'] });
  assert.deepEqual(m.callsTo('list'), [[{ kind: 'Pod', namespace: 'curl', allNamespaces: false, labelSelector: 'app=curl' }]]);
});

test('repeated -l flags narrow together; -o=jsonpath= and --output forms', async () => {
  const m = mesh();
  const r = await runTessera(['get', 'pods', '-n', 'httpbin', '-l', 'app=httpbin', '-l', 'version=v2', '--output=jsonpath={.items[0].metadata.name}'], m);
  assert.equal(r.stdout, 'httpbin-5c7b9d6f4-zzzzz');
  assert.equal((m.callsTo('list')[0]![0] as { labelSelector: string }).labelSelector, 'app=httpbin,version=v2');
});

test('kinds by plural, singular and short name; cluster-scoped kinds ignore the namespace', async () => {
  for (const kind of ['plugin', 'plugins', 'pi', 'plugins.plugin.flomesh.io']) {
    const m = mesh();
    const r = await runTessera(['get', kind, '-n', 'curl'], m);
    assert.equal(r.stdout, 'NAME             AGE\ntoken-injector   5s\n', kind);
    assert.equal((m.callsTo('list')[0]![0] as { namespace?: string }).namespace, undefined);
  }
});

test('namespaced kinds default to the default namespace, with kubectl\'s empty message', async () => {
  const r = await runTessera(['get', 'po'], mesh());
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', 'No resources found in default namespace.\n']);
});

test('-A lists every namespace with a NAMESPACE column; -n before the verb works too', async () => {
  const r = await runTessera(['get', 'pods', '-A', '--no-headers'], mesh());
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 3);
  assert.match(r.stdout, /^curl      curl-7d8f9c6b5d-x2x7q /);
  const r2 = await runTessera(['-n', 'curl', 'get', 'pods', '-o', 'name'], mesh());
  assert.equal(r2.stdout, 'pod/curl-7d8f9c6b5d-x2x7q\n');
});

test('get KIND NAME prints the object itself for json and jsonpath; KIND/NAME works', async () => {
  const r = await runTessera(['get', 'secret', 'fsm-ca-bundle', '-n', 'fsm-system', '-o', 'jsonpath={.data.ca\\.crt}'], mesh());
  assert.deepEqual([r.code, r.stdout], [0, 'LS0tLS1CRUdJTi0tLS0t']);
  const j = await runTessera(['get', 'pod/curl-7d8f9c6b5d-x2x7q', '-n', 'curl', '-o', 'json'], mesh());
  assert.equal((JSON.parse(j.stdout) as { kind: string }).kind, 'Pod');
  const two = await runTessera(['get', 'pods', 'httpbin-5c7b9d6f4-k8s2m', 'httpbin-5c7b9d6f4-zzzzz', '-n', 'httpbin', '-o', 'json'], mesh());
  assert.equal((JSON.parse(two.stdout) as { kind: string; items: unknown[] }).items.length, 2);
});

test('a missing key on one object is an error; a missing name reports and exits 1', async () => {
  const r = await runTessera(['get', 'pod', 'curl-7d8f9c6b5d-x2x7q', '-n', 'curl', '-o', 'jsonpath={.status.hostIP}'], mesh());
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'error: error executing jsonpath "{.status.hostIP}": Error executing template: hostIP is not found\n');
  const missing = await runTessera(['get', 'pod', 'nope', 'curl-7d8f9c6b5d-x2x7q', '-n', 'curl'], mesh());
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'error: pods "nope" not found\n');
  assert.match(missing.stdout, /^NAME .*\ncurl-7d8f9c6b5d-x2x7q /);
  const ignored = await runTessera(['get', 'pod', 'nope', '-n', 'curl', '--ignore-not-found'], mesh());
  assert.deepEqual([ignored.code, ignored.stdout], [0, '']);
});

test('unknown kinds and output formats are errors with exit status 1', async () => {
  const r = await runTessera(['get', 'widgets'], mesh());
  assert.deepEqual([r.code, r.stderr], [1, 'error: the server doesn\'t have a resource type "widgets"\n']);
  const o = await runTessera(['get', 'pods', '-o', 'xml'], mesh());
  assert.equal(o.code, 1);
  assert.match(o.stderr, /^error: unable to match a printer suitable for the output format "xml"/);
});

test('--state and TESSERA_HOME choose the state directory, before or after the verb', async () => {
  assert.deepEqual((await runTessera(['--state', 'a', 'get', 'pi'], mesh())).connectedTo, ['/work/here/a']);
  assert.deepEqual((await runTessera(['get', 'pi', '--state', '/abs/b'], mesh())).connectedTo, ['/abs/b']);
  assert.deepEqual((await runTessera(['get', 'pi'], mesh(), { env: { TESSERA_HOME: 'home' } })).connectedTo, ['/work/here/home']);
});

test('get events: kubectl\'s columns (LAST SEEN with repeats, TYPE, REASON, OBJECT, MESSAGE), -o wide adds the source', async () => {
  const event = (name: string, extra: Record<string, unknown>) => ({
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'curl', creationTimestamp: '2024-01-01T00:03:00Z' },
    involvedObject: { kind: 'Pod', name: 'curl-7d8f9c6b5d-x2x7q', namespace: 'curl' }, source: { component: 'tessera-runtime', host: 'local' }, ...extra,
  });
  const m = new FakeMesh([
    event('curl.1', { type: 'Normal', reason: 'Started', message: 'Started container curl', lastTimestamp: '2024-01-01T00:04:50Z', count: 1 }),
    event('curl.2', { type: 'Warning', reason: 'SidecarUnresponsive', message: 'event loop blocked\nfor 3000 ms', firstTimestamp: '2024-01-01T00:03:00Z', lastTimestamp: '2024-01-01T00:04:30Z', count: 3 }),
  ] as never[]);
  for (const kind of ['events', 'ev', 'event']) {
    const r = await runTessera(['get', kind, '-n', 'curl'], m);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s{2,}/)), [
      ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
      ['10s', 'Normal', 'Started', 'pod/curl-7d8f9c6b5d-x2x7q', 'Started container curl'],
      ['30s (x3 over 2m)', 'Warning', 'SidecarUnresponsive', 'pod/curl-7d8f9c6b5d-x2x7q', 'event loop blocked for 3000 ms'],
    ]);
    assert.equal((m.callsTo('list').at(-1)![0] as { kind: string }).kind, 'Event');
  }
  const wide = await runTessera(['get', 'events', '-n', 'curl', '-o', 'wide'], m);
  assert.match(wide.stdout.split('\n')[0]!, /MESSAGE\s+SOURCE\s+COUNT\s+NAME$/);
  assert.match(wide.stdout.split('\n')[2]!, /tessera-runtime, local\s+3\s+curl\.2$/);
});
