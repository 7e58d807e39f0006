/** The documents' shape: definitions and their GVKs, CRD schemas as the apiserver publishes them, operations kubectl reads. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  builtinSchema,
  definitionName,
  encodeOpenApiV2Protobuf,
  meshKindSchema,
  MESH_KINDS,
  openApiV2,
  openApiV3GroupVersion,
  openApiV3Root,
} from './index.js';
import { validateObject, validateStructuralSchema } from '../schema/index.js';
import { TYPES } from './test-fixtures.js';

type J = Record<string, any>;
const v2 = openApiV2(TYPES, { gitVersion: 'v1.33.0-tessera' }) as J;
const def = (name: string): J => v2.definitions[name];

describe('openApiV2', () => {
  it('names definitions like the apiserver and tags each with its group/version/kind', () => {
    assert.equal(v2.swagger, '2.0');
    assert.equal(v2.info.version, 'v1.33.0-tessera');
    const expect: [string, string, string, string][] = [
      ['io.k8s.api.core.v1.Pod', '', 'v1', 'Pod'],
      ['io.k8s.api.core.v1.PodList', '', 'v1', 'PodList'],
      ['io.k8s.api.core.v1.Namespace', '', 'v1', 'Namespace'],
      ['io.k8s.api.apps.v1.Deployment', 'apps', 'v1', 'Deployment'],
      ['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition', 'apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'],
      ['com.example.v1.Widget', 'example.com', 'v1', 'Widget'],
      ['com.example.v1.WidgetList', 'example.com', 'v1', 'WidgetList'],
      ['io.istio.security.v1.AuthorizationPolicy', 'security.istio.io', 'v1', 'AuthorizationPolicy'],
    ];
    for (const [name, group, version, kind] of expect) {
      assert.ok(def(name), `missing ${name}`);
      assert.deepEqual(def(name)['x-kubernetes-group-version-kind'], [{ group, kind, version }], name);
    }
    assert.equal(definitionName('discovery.k8s.io', 'v1', 'EndpointSlice'), 'io.k8s.api.discovery.v1.EndpointSlice');
    for (const common of ['ObjectMeta', 'ListMeta', 'Status', 'Time', 'StatusCause', 'DeleteOptions', 'Patch']) assert.ok(def(`io.k8s.apimachinery.pkg.apis.meta.v1.${common}`), common);
    assert.ok(def('io.k8s.apimachinery.pkg.util.intstr.IntOrString'));
    assert.ok(def('io.k8s.apimachinery.pkg.api.resource.Quantity'));
  });

  it('gives kinds apiVersion, kind and an ObjectMeta reference, and every $ref resolves', () => {
    const pod = def('io.k8s.api.core.v1.Pod');
    assert.equal(pod.type, 'object');
    assert.equal(pod.properties.apiVersion.type, 'string');
    assert.equal(pod.properties.kind.type, 'string');
    assert.equal(pod.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(pod.properties.spec.properties.containers.items.properties.image.type, 'string');
    assert.equal(def('io.k8s.api.apps.v1.Deployment').properties.spec.properties.template.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    const refs = JSON.stringify(v2).match(/"\$ref":"#\/definitions\/[^"]+"/g) ?? [];
    for (const r of new Set(refs)) assert.ok(def(r.slice('"$ref":"#/definitions/'.length, -1)), `dangling ${r}`);
  });

  it('converts a CRD schema to v2 as the apiserver does', () => {
    const w = def('com.example.v1.Widget');
    const spec = w.properties.spec;
    assert.deepEqual(spec.required, ['size']);
    assert.equal(spec.properties.size.type, 'integer');
    assert.equal(spec.properties.size.minimum, 1, 'value validations stay');
    assert.deepEqual(spec.properties.mode.enum, ['fast', 'slow']);
    assert.equal(spec.properties.mode.default, undefined, 'defaults are pruned from v2');
    assert.deepEqual(spec.properties.note, {}, 'a nullable node loses its type');
    assert.deepEqual(spec.properties.port, { 'x-kubernetes-int-or-string': true, description: 'Port number or name.' });
    assert.deepEqual(spec.properties.extra, { 'x-kubernetes-preserve-unknown-fields': true }, 'preserve-unknown loses properties and type object');
    assert.equal(spec.properties.choice.anyOf, undefined, 'junctors are dropped');
    assert.equal(spec.properties.tags['x-kubernetes-list-type'], 'set');
    // a kind whose schema preserves everything is a bare object: no properties kubectl would enforce
    const open = { ...TYPES.find((t) => t.kind === 'Widget')!, kind: 'Blob', listKind: 'BlobList', plural: 'blobs', versions: [{ name: 'v1', storage: true, schema: { type: 'object' as const, 'x-kubernetes-preserve-unknown-fields': true } }] };
    const blob = (openApiV2([open], { gitVersion: 'v1' }) as J).definitions['com.example.v1.Blob'];
    assert.deepEqual(blob, { type: 'object', 'x-kubernetes-group-version-kind': [{ group: 'example.com', kind: 'Blob', version: 'v1' }] });
  });

  it('lists paths with operations carrying the GVK and the fieldValidation parameter on writes', () => {
    const item = v2.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    assert.ok(item && v2.paths['/api/v1/namespaces/{namespace}/pods'] && v2.paths['/api/v1/pods'] && v2.paths['/api/v1/namespaces/{name}']);
    assert.equal(item.patch.operationId, 'patchCoreV1NamespacedPod');
    assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Pod' });
    assert.equal(item.patch['x-kubernetes-action'], 'patch');
    for (const [path, method] of [
      ['/api/v1/namespaces/{namespace}/pods/{name}', 'patch'],
      ['/api/v1/namespaces/{namespace}/pods/{name}', 'put'],
      ['/api/v1/namespaces/{namespace}/pods', 'post'],
      ['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}', 'patch'],
      ['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status', 'patch'],
      ['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale', 'patch'],
    ]) {
      const names = v2.paths[path][method].parameters.map((p: J) => p.name);
      assert.ok(names.includes('fieldValidation'), `${method} ${path}`);
    }
    assert.ok(!item.get.parameters.some((p: J) => p.name === 'fieldValidation'));
    assert.equal(v2.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].get.responses['200'].schema.$ref, '#/definitions/io.k8s.api.autoscaling.v1.Scale');
  });

  it('encodes to protobuf with the document inside', () => {
    const pb = encodeOpenApiV2Protobuf(v2);
    assert.ok(pb.length > 10_000);
    assert.equal(pb[0], 0x0a, 'field 1 (swagger), length-delimited');
    assert.equal(Buffer.from(pb.subarray(2, 5)).toString(), '2.0');
    assert.ok(Buffer.from(pb).includes('io.k8s.api.core.v1.Pod'));
  });
});

describe('openApiV3', () => {
  it('roots one document per group/version with a content hash', () => {
    const root = openApiV3Root(TYPES);
    assert.deepEqual(Object.keys(root.paths), ['api/v1', 'apis/apiextensions.k8s.io/v1', 'apis/apps/v1', 'apis/example.com/v1', 'apis/security.istio.io/v1']);
    assert.match(root.paths['api/v1']!.serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  });

  it('keeps the CRD schema as written, with components references', () => {
    const doc = openApiV3GroupVersion(TYPES, 'example.com', 'v1') as J;
    const w = doc.components.schemas['com.example.v1.Widget'];
    assert.equal(doc.openapi, '3.0.0');
    assert.deepEqual(w['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Widget', version: 'v1' }]);
    assert.deepEqual(w.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    assert.equal(w.properties.spec.properties.note.nullable, true);
    assert.equal(w.properties.spec.properties.mode.default, 'fast');
    assert.equal(w.properties.spec.properties.extra.properties.known.type, 'boolean');
    const patch = doc.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'].patch;
    assert.ok(patch.parameters.some((p: J) => p.name === 'fieldValidation'));
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'example.com', version: 'v1', kind: 'Widget' });
    assert.equal(openApiV3GroupVersion(TYPES, 'nope.io', 'v1'), undefined);
  });
});

describe('builtin schemas', () => {
  const kinds: [string, string][] = [['', 'Namespace'], ['', 'Service'], ['', 'Endpoints'], ['', 'Pod'], ['', 'ConfigMap'], ['', 'Secret'], ['', 'ServiceAccount'], ['', 'Event'],
    ['apps', 'Deployment'], ['discovery.k8s.io', 'EndpointSlice'], ['apiextensions.k8s.io', 'CustomResourceDefinition']];

  it('are structural schemas for every built-in kind', () => {
    for (const [g, k] of kinds) {
      const s = builtinSchema(g, k);
      assert.ok(s, `${g}/${k}`);
      assert.deepEqual(validateStructuralSchema(s, k), [], `${g}/${k}`);
    }
    assert.equal(builtinSchema('', 'Nope'), undefined);
  });

  it('accept a typical manifest and catch a typo a real apiserver would catch', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: {
        containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m', memory: 1024 } }, readinessProbe: { httpGet: { port: 'http' } } }],
        volumes: [{ name: 'v', secret: { secretName: 's' } }],
      },
    };
    assert.deepEqual(validateObject(pod, builtinSchema('', 'Pod')!), []);
    const bad = { ...pod, spec: { containers: [{ name: 'c', ports: [{ containerPort: 'eighty' }] }] } };
    assert.deepEqual(validateObject(bad, builtinSchema('', 'Pod')!).map((c) => c.field), ['spec.containers[0].ports[0].containerPort']);
  });

  it('give every mesh kind an open spec until its CRD schema lands', () => {
    for (const k of MESH_KINDS) assert.equal(meshKindSchema(k)?.properties?.spec?.['x-kubernetes-preserve-unknown-fields'], true, k);
    assert.equal(meshKindSchema('Pod'), undefined);
  });
});
