/** kubectl JSONPath forms the seeds and scripts use, against realistic Pod, List and Secret objects. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caSecret, curlPod, httpbinPod, pendingPod } from '../../testing/fixtures.js';
import { listObject } from '../serialize.js';
import { JsonPathError, renderJsonPath } from './index.js';

const list = listObject([curlPod, httpbinPod, pendingPod]);
const lenient = { allowMissingKeys: true };
const strict = { allowMissingKeys: false };
const render = (t: string, data: unknown = list, opts = lenient): string => renderJsonPath(t, data, opts);

test('{.items..metadata.name} joins every pod name with spaces', () => {
  assert.equal(render('{.items..metadata.name}'), 'curl-7d8f9c6b5d-x2x7q httpbin-5c7b9d6f4-k8s2m httpbin-5c7b9d6f4-zzzzz');
});

test('{.items[0].status.podIP}, [-1] and [*]', () => {
  assert.equal(render('{.items[0].status.podIP}'), '127.7.1.1');
  assert.equal(render('{.items[-1].metadata.name}'), 'httpbin-5c7b9d6f4-zzzzz');
  assert.equal(render('{.items[*].metadata.name}'), 'curl-7d8f9c6b5d-x2x7q httpbin-5c7b9d6f4-k8s2m httpbin-5c7b9d6f4-zzzzz');
  assert.equal(render('{.items[0].spec.containers[*].name}'), 'curl sidecar');
});

test('slices', () => {
  assert.equal(render('{.items[0:2].metadata.name}'), 'curl-7d8f9c6b5d-x2x7q httpbin-5c7b9d6f4-k8s2m');
  assert.equal(render('{.items[1:].status.podIP}'), '127.7.1.2 127.7.1.3');
  assert.equal(render('{.items[:1].status.podIP}'), '127.7.1.1');
  assert.equal(render('{.items[::2].status.podIP}'), '127.7.1.1 127.7.1.3');
  assert.equal(render('{.items[-2:].status.podIP}'), '127.7.1.2 127.7.1.3');
});

test('escaped dots name keys that contain dots', () => {
  assert.equal(render('{.data.ca\\.crt}', caSecret, strict), 'LS0tLS1CRUdJTi0tLS0t');
  assert.equal(render("{.data['ca.crt']}", caSecret, strict), 'LS0tLS1CRUdJTi0tLS0t');
});

test('range with literal newlines and tabs', () => {
  assert.equal(
    render('{range .items[*]}{.metadata.name}{"\\t"}{.status.podIP}{"\\n"}{end}'),
    'curl-7d8f9c6b5d-x2x7q\t127.7.1.1\nhttpbin-5c7b9d6f4-k8s2m\t127.7.1.2\nhttpbin-5c7b9d6f4-zzzzz\t127.7.1.3\n',
  );
  assert.equal(render('{range .items[*]}[{.metadata.namespace}] {end}'), '[curl] [httpbin] [httpbin] ');
});

test('nested ranges', () => {
  assert.equal(
    render('{range .items[0:2]}{.metadata.name}:{range .spec.containers[*]} {.name}{end};{end}'),
    'curl-7d8f9c6b5d-x2x7q: curl sidecar;httpbin-5c7b9d6f4-k8s2m: httpbin sidecar;',
  );
});

test('filters', () => {
  assert.equal(render('{.items[?(@.status.phase=="Running")].metadata.name}'), 'curl-7d8f9c6b5d-x2x7q httpbin-5c7b9d6f4-k8s2m');
  assert.equal(render("{.items[?(@.status.phase != 'Running')].metadata.name}"), 'httpbin-5c7b9d6f4-zzzzz');
  assert.equal(render('{.items[0].status.conditions[?(@.type=="Ready")].status}'), 'True');
  assert.equal(render('{.items[0].status.containerStatuses[?(@.restartCount>0)].name}'), 'sidecar');
  assert.equal(render('{.items[?(@.metadata.labels.version)].metadata.labels.version}'), 'v1 v2');
});

test('literal text outside actions, and quoted strings inside', () => {
  assert.equal(render('pod={.items[0].metadata.name} ip={.items[0].status.podIP}'), 'pod=curl-7d8f9c6b5d-x2x7q ip=127.7.1.1');
  assert.equal(render('{"a}b"}'), 'a}b');
});

test('objects and arrays print as compact JSON with sorted keys; numbers and booleans as text', () => {
  assert.equal(render('{.items[0].metadata.labels}'), '{"app":"curl","pod-template-hash":"7d8f9c6b5d"}');
  assert.equal(render('{.items[0].status.podIPs}'), '[{"ip":"127.7.1.1"}]');
  assert.equal(render('{.items[0].status.containerStatuses[1].restartCount}'), '1');
  assert.equal(render('{.items[0].status.containerStatuses[0].ready}'), 'true');
});

test('the root object: {$.kind}, {@.kind}, {.kind}', () => {
  assert.equal(render('{$.kind}'), 'List');
  assert.equal(render('{@.kind}'), 'List');
  assert.equal(render('{.metadata.name}', curlPod, strict), 'curl-7d8f9c6b5d-x2x7q');
});

test('missing keys print nothing on lists but fail on a single object', () => {
  assert.equal(render('{.items[*].status.hostIP}'), '');
  assert.equal(render('{.items..nosuch}'), '');
  assert.throws(() => render('{.status.hostIP}', curlPod, strict), (e: Error) => {
    assert.ok(e instanceof JsonPathError);
    assert.equal(e.message, 'error executing jsonpath "{.status.hostIP}": Error executing template: hostIP is not found');
    return true;
  });
});

test('an index past the end fails like kubectl, an empty list with [*] prints nothing', () => {
  assert.throws(() => render('{.items[0].metadata.name}', listObject([])), /array index out of bounds: index 0, length 0/);
  assert.equal(render('{.items[*].metadata.name}', listObject([])), '');
});

test('parse errors name the template', () => {
  assert.throws(() => render('{.items[0'), /error parsing jsonpath \{\.items\[0, unclosed action/);
  assert.throws(() => render('{range .items[*]}{.x}'), /unclosed range/);
  assert.throws(() => render('{end}'), /not in range/);
});
