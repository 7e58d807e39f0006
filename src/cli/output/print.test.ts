/** Per-kind tables and -o json/yaml/name/jsonpath as `get` prints them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../api/types.js';
import {
  caSecret, curlPod, httpbinDeployment, httpbinPod, httpbinService, meshConfig, namespace, pendingPod, tokenInjector,
} from '../testing/fixtures.js';
import { parseOutputFormat } from './format.js';
import { objectName } from './names.js';
import { printObjects, type PrintRequest } from './print.js';
import { resultLine, deletedLine } from './results.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');

function print(kind: string, objects: Resource[], output?: string, extra: Partial<PrintRequest> = {}) {
  return printObjects({ kind, objects, single: false, format: parseOutputFormat(output), namespace: 'default', nowMs: NOW, ...extra });
}

test('pods: NAME READY STATUS RESTARTS AGE, and -o wide', () => {
  assert.equal(
    print('Pod', [httpbinPod, pendingPod]).stdout,
    'NAME                      READY   STATUS              RESTARTS   AGE\n' +
      'httpbin-5c7b9d6f4-k8s2m   2/2     Running             1          5m\n' +
      'httpbin-5c7b9d6f4-zzzzz   0/2     ContainerCreating   1          5m\n',
  );
  assert.equal(
    print('Pod', [httpbinPod], 'wide').stdout,
    'NAME                      READY   STATUS    RESTARTS   AGE   IP          NODE    NOMINATED NODE   READINESS GATES\n' +
      'httpbin-5c7b9d6f4-k8s2m   2/2     Running   1          5m    127.7.1.2   local   <none>           <none>\n',
  );
});

test('-A puts NAMESPACE first; --show-labels adds LABELS', () => {
  assert.equal(
    print('Pod', [curlPod, httpbinPod], undefined, { allNamespaces: true }).stdout,
    'NAMESPACE   NAME                      READY   STATUS    RESTARTS   AGE\n' +
      'curl        curl-7d8f9c6b5d-x2x7q     2/2     Running   1          5m\n' +
      'httpbin     httpbin-5c7b9d6f4-k8s2m   2/2     Running   1          5m\n',
  );
  assert.match(print('Pod', [curlPod], undefined, { showLabels: true }).stdout, /LABELS\n.*   app=curl,pod-template-hash=7d8f9c6b5d\n$/);
});

test('services, deployments, namespaces, secrets, configmaps, serviceaccounts', () => {
  assert.equal(
    print('Service', [httpbinService]).stdout,
    'NAME      TYPE        CLUSTER-IP    EXTERNAL-IP   PORT(S)     AGE\nhttpbin   ClusterIP   127.7.128.1   <none>        14001/TCP   5m\n',
  );
  assert.match(print('Service', [httpbinService], 'wide').stdout, /SELECTOR\n.*   app=httpbin\n$/);
  assert.equal(
    print('Deployment', [httpbinDeployment]).stdout,
    'NAME      READY   UP-TO-DATE   AVAILABLE   AGE\nhttpbin   1/1     1            1           5m\n',
  );
  assert.match(print('Deployment', [httpbinDeployment], 'wide').stdout, /CONTAINERS   IMAGES                 SELECTOR\n.*httpbin      kennethreitz\/httpbin   app=httpbin\n$/);
  assert.equal(print('Namespace', [namespace('curl')]).stdout, 'NAME   STATUS   AGE\ncurl   Active   5m\n');
  assert.equal(print('Secret', [caSecret]).stdout, 'NAME            TYPE     DATA   AGE\nfsm-ca-bundle   Opaque   2      5m\n');
  const cm: Resource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', creationTimestamp: '2024-01-01T00:00:00Z' }, data: { a: '1' } };
  assert.equal(print('ConfigMap', [cm]).stdout, 'NAME   DATA   AGE\ncfg    1      5m\n');
  const sa: Resource = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'curl', creationTimestamp: '2024-01-01T00:00:00Z' } };
  assert.equal(print('ServiceAccount', [sa]).stdout, 'NAME   SECRETS   AGE\ncurl   0         5m\n');
});

test('other kinds: NAME AGE', () => {
  assert.equal(print('Plugin', [tokenInjector]).stdout, 'NAME             AGE\ntoken-injector   5s\n');
});

test('an empty table says so on stderr, naming the namespace', () => {
  assert.deepEqual(print('Pod', [], undefined, { namespace: 'curl' }), { stdout: '', stderr: 'No resources found in curl namespace.\n' });
  assert.deepEqual(print('Plugin', [], undefined, { namespace: undefined }), { stdout: '', stderr: 'No resources found\n' });
  assert.equal(print('Pod', [], undefined, { allNamespaces: true }).stderr, 'No resources found\n');
});

test('-o json: one object as itself, several as a List, 4-space indent', () => {
  const one = print('Pod', [curlPod], 'json', { single: true }).stdout;
  assert.deepEqual(JSON.parse(one), curlPod);
  assert.ok(one.startsWith('{\n    "apiVersion": "v1",\n    "kind": "Pod",\n'));
  assert.ok(one.endsWith('}\n'));
  const many = print('Pod', [curlPod, httpbinPod], 'json').stdout;
  const parsed = JSON.parse(many) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['apiVersion', 'items', 'kind', 'metadata']);
  assert.deepEqual(parsed, { apiVersion: 'v1', items: [curlPod, httpbinPod], kind: 'List', metadata: { resourceVersion: '' } });
  assert.equal(print('Pod', [], 'json').stdout, '{\n    "apiVersion": "v1",\n    "items": [],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n');
});

test('-o yaml: block style with unindented sequences', () => {
  const out = print('Plugin', [tokenInjector], 'yaml').stdout;
  assert.equal(
    out,
    'apiVersion: v1\nitems:\n- apiVersion: plugin.flomesh.io/v1alpha1\n  kind: Plugin\n  metadata:\n    name: token-injector\n' +
      '    creationTimestamp: "2024-01-01T00:04:55Z"\n  spec:\n    priority: 115\n    pipyscript: (pipy())\nkind: List\nmetadata:\n  resourceVersion: ""\n',
  );
  assert.match(print('MeshConfig', [meshConfig], 'yaml', { single: true }).stdout, /^apiVersion: config.flomesh.io\/v1alpha3\nkind: MeshConfig\n/);
});

test('-o name: kind.group/name', () => {
  assert.equal(print('Pod', [curlPod], 'name').stdout, 'pod/curl-7d8f9c6b5d-x2x7q\n');
  assert.equal(print('Deployment', [httpbinDeployment], 'name').stdout, 'deployment.apps/httpbin\n');
  assert.equal(print('Plugin', [tokenInjector], 'name').stdout, 'plugin.plugin.flomesh.io/token-injector\n');
  assert.equal(objectName(meshConfig), 'meshconfig.config.flomesh.io/fsm-mesh-config');
});

test('-o jsonpath applies to the List without names and to the object with one name', () => {
  assert.equal(print('Pod', [curlPod, httpbinPod], 'jsonpath={.items..metadata.name}').stdout, 'curl-7d8f9c6b5d-x2x7q httpbin-5c7b9d6f4-k8s2m');
  assert.equal(print('Pod', [curlPod], "jsonpath='{.status.podIP}'", { single: true }).stdout, '127.7.1.1');
  assert.throws(() => print('Pod', [curlPod], 'jsonpath={.status.nope}', { single: true }), /nope is not found/);
  assert.equal(print('Pod', [curlPod], 'jsonpath={.items[*].status.nope}').stdout, '');
});

test('output format parsing', () => {
  assert.deepEqual(parseOutputFormat('=json'), { type: 'json' });
  assert.deepEqual(parseOutputFormat('jsonpath="{.a}"'), { type: 'jsonpath', template: '{.a}' });
  assert.throws(() => parseOutputFormat('xml'), /unable to match a printer suitable for the output format "xml"/);
  assert.throws(() => parseOutputFormat('jsonpath='), /no template given/);
});

test('apply, patch and delete report lines', () => {
  assert.equal(resultLine({ kind: 'Namespace', name: 'curl', action: 'created' }), 'namespace/curl created\n');
  assert.equal(resultLine({ kind: 'ServiceAccount', name: 'curl', namespace: 'curl', action: 'unchanged' }), 'serviceaccount/curl unchanged\n');
  assert.equal(resultLine({ kind: 'Deployment', name: 'httpbin', action: 'configured' }), 'deployment.apps/httpbin configured\n');
  assert.equal(resultLine({ kind: 'Plugin', name: 'token-injector', action: 'created' }), 'plugin.plugin.flomesh.io/token-injector created\n');
  assert.equal(resultLine({ kind: 'PluginChain', name: 'x', action: 'created' }), 'pluginchain.plugin.flomesh.io/x created\n');
  assert.equal(resultLine({ kind: 'MeshConfig', name: 'fsm-mesh-config', action: 'patched' }), 'meshconfig.config.flomesh.io/fsm-mesh-config patched\n');
  assert.equal(deletedLine({ kind: 'Pod', name: 'x' }), 'pod "x" deleted\n');
  assert.equal(deletedLine({ kind: 'Deployment', name: 'httpbin' }), 'deployment.apps "httpbin" deleted\n');
});

test('-o json, yaml and jsonpath leave managedFields out, as kubectl does by default', () => {
  const ns = namespace('demo');
  const managed = { ...ns, metadata: { ...ns.metadata, managedFields: [{ manager: 'kubectl', operation: 'Apply' }] } } as Resource;
  for (const output of ['json', 'yaml']) {
    const out = print('Namespace', [managed], output, { single: true }).stdout;
    assert.doesNotMatch(out, /managedFields/);
    assert.match(out, /demo/);
  }
  // kubectl 1.33 likewise: `error: managedFields is not found`
  assert.throws(() => print('Namespace', [managed], 'jsonpath={.metadata.managedFields}', { single: true }), /managedFields is not found/);
});
