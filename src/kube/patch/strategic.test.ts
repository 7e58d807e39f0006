import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch, PatchError, strategicSchemaFor, type PatchErrorCode, type StrategicSchema } from './index.js';
import { frozen } from './test-helpers.js';

const DEPLOYMENT = strategicSchemaFor('apps', 'Deployment')!;
const POD = strategicSchemaFor('', 'Pod')!;

// The tests index deep into results; a loose type keeps the assertions readable.
type Json = Record<string, any>;

function rejects(fn: () => unknown, code: PatchErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PatchError, `expected a PatchError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

/** A Deployment as the server stores it: defaults filled in and a sidecar injected next to the user's containers. */
function liveDeployment(): Json {
  return frozen({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      labels: { app: 'web' },
      annotations: { 'deployment.kubernetes.io/revision': '3' },
      finalizers: ['a.example/one', 'b.example/two'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-1' }],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'web:v1',
              imagePullPolicy: 'IfNotPresent',
              terminationMessagePath: '/dev/termination-log',
              ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              envFrom: [{ configMapRef: { name: 'cfg' } }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
            { name: 'proxy', image: 'tessera/sidecar:1', imagePullPolicy: 'IfNotPresent' },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
          imagePullSecrets: [{ name: 'regcred' }],
          restartPolicy: 'Always',
        },
      },
    },
    status: { conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] },
  });
}

function patchDeployment(patch: unknown): Json {
  return applyStrategicMergePatch(liveDeployment(), frozen(patch), DEPLOYMENT) as Json;
}

const podSpecOf = (d: Json): Json => d['spec']['template']['spec'];
const names = (list: Json[]): unknown[] => list.map((e) => e['name']);

describe('applyStrategicMergePatch: what kubectl patch sends', () => {
  it('changes one container image and keeps the other containers and fields', () => {
    const out = patchDeployment({ spec: { template: { spec: { containers: [{ name: 'app', image: 'web:v2' }] } } } });
    const spec = podSpecOf(out);
    assert.deepEqual(names(spec['containers']), ['app', 'proxy']);
    const app = spec['containers'][0];
    assert.equal(app.image, 'web:v2');
    assert.equal(app.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(app.env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    assert.deepEqual(spec['containers'][1], liveDeployment()['spec']['template']['spec']['containers'][1]);
    assert.equal(out['spec']['replicas'], 2);
    assert.deepEqual(out['status'], liveDeployment()['status']);
  });

  it('adds a new container in front of the existing ones, as kube-apiserver orders it without $setElementOrder', () => {
    const out = patchDeployment({ spec: { template: { spec: { containers: [{ name: 'logger', image: 'busybox' }] } } } });
    assert.deepEqual(names(podSpecOf(out)['containers']), ['logger', 'app', 'proxy']);
  });

  it('merges env by name: changes one, adds one, keeps the rest', () => {
    const out = patchDeployment({
      spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '20' }, { name: 'C', value: '3' }] }] } } },
    });
    assert.deepEqual(podSpecOf(out)['containers'][0].env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '20' },
      { name: 'C', value: '3' },
    ]);
  });

  it('removes a field of a merged element with null', () => {
    const out = patchDeployment({ spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'A', value: null, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }] } } } });
    assert.deepEqual(podSpecOf(out)['containers'][0].env[0], { name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  });

  it('deletes a container with $patch: delete', () => {
    const out = patchDeployment({ spec: { template: { spec: { containers: [{ name: 'proxy', $patch: 'delete' }] } } } });
    assert.deepEqual(names(podSpecOf(out)['containers']), ['app']);
  });

  it('replaces the container list with a $patch: replace element', () => {
    const out = patchDeployment({ spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } });
    assert.deepEqual(podSpecOf(out)['containers'], [{ name: 'only', image: 'x' }]);
  });

  it('replaces a map with $patch: replace and empties it with $patch: delete', () => {
    const replaced = patchDeployment({ spec: { selector: { $patch: 'replace', matchLabels: { tier: 'front' } } } });
    assert.deepEqual(replaced['spec']['selector'], { matchLabels: { tier: 'front' } });
    const emptied = patchDeployment({ spec: { template: { metadata: { labels: { $patch: 'delete' } } } } });
    assert.deepEqual(emptied['spec']['template']['metadata']['labels'], {});
    const merged = patchDeployment({ metadata: { labels: { $patch: 'merge', tier: 'front' } } });
    assert.deepEqual(merged['metadata']['labels'], { app: 'web', tier: 'front' });
  });

  it("applies kubectl rollout restart's patch", () => {
    const out = patchDeployment({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } } } } });
    assert.deepEqual(out['spec']['template']['metadata'], {
      labels: { app: 'web' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' },
    });
    assert.deepEqual(podSpecOf(out), podSpecOf(liveDeployment()));
  });

  it('replaces lists without a patch strategy: tolerations, envFrom', () => {
    const out = patchDeployment({
      spec: {
        template: {
          spec: {
            tolerations: [{ key: 'gpu', operator: 'Exists' }],
            containers: [{ name: 'app', envFrom: [{ secretRef: { name: 's' } }] }],
          },
        },
      },
    });
    assert.deepEqual(podSpecOf(out)['tolerations'], [{ key: 'gpu', operator: 'Exists' }]);
    assert.deepEqual(podSpecOf(out)['containers'][0].envFrom, [{ secretRef: { name: 's' } }]);
  });

  it('merges ports by containerPort, volumeMounts by mountPath, imagePullSecrets by name', () => {
    const out = patchDeployment({
      spec: {
        template: {
          spec: {
            containers: [{ name: 'app', ports: [{ containerPort: 8080, name: 'web' }, { containerPort: 9090 }], volumeMounts: [{ mountPath: '/data', readOnly: true }] }],
            imagePullSecrets: [{ name: 'other' }],
          },
        },
      },
    });
    const app = podSpecOf(out)['containers'][0];
    assert.deepEqual(app.ports, [{ containerPort: 8080, protocol: 'TCP', name: 'web' }, { containerPort: 9090 }]);
    assert.deepEqual(app.volumeMounts, [{ name: 'data', mountPath: '/data', readOnly: true }]);
    assert.deepEqual(names(podSpecOf(out)['imagePullSecrets']), ['other', 'regcred']);
  });

  it('deletes a key with null and ignores nulls for keys that are not there', () => {
    const out = patchDeployment({ metadata: { annotations: { 'deployment.kubernetes.io/revision': null, absent: null } }, spec: { replicas: null } });
    assert.deepEqual(out['metadata']['annotations'], {});
    assert.equal('replicas' in out['spec'], false);
  });

  it('drops nulls and directives inside values the target did not have', () => {
    const out = patchDeployment({ spec: { template: { spec: { nodeSelector: { disk: 'ssd', gone: null }, affinity: { $patch: 'replace', nodeAffinity: { x: 1, y: null } } } } } });
    assert.deepEqual(podSpecOf(out)['nodeSelector'], { disk: 'ssd' });
    assert.deepEqual(podSpecOf(out)['affinity'], { nodeAffinity: { x: 1 } });
  });

  it('orders containers with $setElementOrder/containers', () => {
    const out = patchDeployment({
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'proxy' }, { name: 'app' }] } } },
    });
    assert.deepEqual(names(podSpecOf(out)['containers']), ['proxy', 'app']);
  });

  it('merges status conditions by type (kubectl patch --subresource=status)', () => {
    const out = patchDeployment({ status: { conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }] } });
    assert.deepEqual(out['status']['conditions'], [
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
      { type: 'Progressing', status: 'True' },
    ]);
  });

  it('merges ownerReferences by uid and finalizers as a set', () => {
    const out = patchDeployment({
      metadata: {
        ownerReferences: [{ uid: 'u-1', controller: true }, { apiVersion: 'v1', kind: 'Secret', name: 's', uid: 'u-2' }],
        finalizers: ['b.example/two', 'c.example/three'],
      },
    });
    assert.deepEqual(out['metadata']['ownerReferences'], [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-1', controller: true },
      { apiVersion: 'v1', kind: 'Secret', name: 's', uid: 'u-2' },
    ]);
    assert.deepEqual(out['metadata']['finalizers'], ['a.example/one', 'b.example/two', 'c.example/three']);
  });

  it('removes finalizers with $deleteFromPrimitiveList/finalizers', () => {
    const out = patchDeployment({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example/one', 'not-there'] } });
    assert.deepEqual(out['metadata']['finalizers'], ['b.example/two']);
  });

  it('adds and removes finalizers in one patch, whatever the key order', () => {
    const a = patchDeployment({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example/one'], finalizers: ['z.example/new'] } });
    const b = patchDeployment({ metadata: { finalizers: ['z.example/new'], '$deleteFromPrimitiveList/finalizers': ['a.example/one'] } });
    assert.deepEqual(a['metadata']['finalizers'], ['z.example/new', 'b.example/two']);
    assert.deepEqual(b['metadata']['finalizers'], a['metadata']['finalizers']);
  });

  it('switches a volume source with $retainKeys', () => {
    const out = patchDeployment({
      spec: { template: { spec: { volumes: [{ $retainKeys: ['configMap', 'name'], name: 'data', configMap: { name: 'cfg' } }] } } },
    });
    assert.deepEqual(podSpecOf(out)['volumes'], [{ name: 'data', configMap: { name: 'cfg' } }]);
  });

  it('switches the Deployment strategy to Recreate with $retainKeys', () => {
    const out = patchDeployment({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } });
    assert.deepEqual(out['spec']['strategy'], { type: 'Recreate' });
  });

  it('never mutates the target or the patch (both are frozen here) and shares nothing with them', () => {
    const target = liveDeployment();
    const patch = frozen({ spec: { template: { spec: { containers: [{ name: 'new', image: 'n', env: [{ name: 'X', value: 'y' }] }] } } } });
    const out = applyStrategicMergePatch(target, patch, DEPLOYMENT) as Json;
    assert.notEqual(out['metadata'], target['metadata']);
    assert.notEqual(out['status']['conditions'], target['status']['conditions']);
    assert.notEqual(podSpecOf(out)['containers'][0], patch['spec']['template']['spec']['containers'][0]);
    assert.deepEqual(target, liveDeployment());
  });
});

describe('applyStrategicMergePatch: the three-way patches kubectl apply computes', () => {
  it('updates a Deployment: image, a port added, env changed and removed, a container added, the sidecar kept', () => {
    // last-applied had app(web:v1, ports 8080, env A=1 B=2); the new manifest has app(web:v2, ports 8080+9090,
    // env A=1 C=3) and a logger container. kubectl sends additions/changes against the live object, deletions
    // against last-applied, and $setElementOrder for every merged list it touched.
    const out = patchDeployment({
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{...}' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }, { name: 'logger' }],
            containers: [
              {
                name: 'app',
                image: 'web:v2',
                '$setElementOrder/env': [{ name: 'A' }, { name: 'C' }],
                env: [{ name: 'C', value: '3' }, { name: 'B', $patch: 'delete' }],
                '$setElementOrder/ports': [{ containerPort: 8080 }, { containerPort: 9090 }],
                ports: [{ containerPort: 9090, protocol: 'TCP' }],
              },
              { name: 'logger', image: 'busybox' },
            ],
          },
        },
      },
    });
    const spec = podSpecOf(out);
    assert.deepEqual(names(spec['containers']), ['app', 'logger', 'proxy']);
    const app = spec['containers'][0];
    assert.equal(app.image, 'web:v2');
    assert.equal(app.imagePullPolicy, 'IfNotPresent', 'server defaults survive');
    assert.deepEqual(app.env, [{ name: 'A', value: '1' }, { name: 'C', value: '3' }]);
    assert.deepEqual(app.ports, [{ containerPort: 8080, protocol: 'TCP', name: 'http' }, { containerPort: 9090, protocol: 'TCP' }]);
    assert.deepEqual(spec['containers'][1], { name: 'logger', image: 'busybox' });
    assert.equal(out['metadata']['annotations']['kubectl.kubernetes.io/last-applied-configuration'], '{...}');
    assert.equal(out['metadata']['annotations']['deployment.kubernetes.io/revision'], '3');
  });

  it('removes a container that left the manifest and keeps the order of the rest', () => {
    const target = frozen({
      spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'proxy' }, { name: 'b' }, { name: 'c' }] } } },
    });
    const out = applyStrategicMergePatch(
      target,
      frozen({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }], containers: [{ name: 'b', $patch: 'delete' }] } } } }),
      DEPLOYMENT,
    ) as Json;
    // c and a come in the manifest's order; the server-only proxy goes before c because it was
    // before c in the live list (kube-apiserver interleaves by old positions).
    assert.deepEqual(names(podSpecOf(out)['containers']), ['proxy', 'c', 'a']);
  });

  it('reorders and edits a primitive merge list with $setElementOrder and $deleteFromPrimitiveList', () => {
    const target = frozen({ metadata: { finalizers: ['x', 'y', 'z'] } });
    const out = applyStrategicMergePatch(
      target,
      frozen({ metadata: { '$setElementOrder/finalizers': ['z', 'w', 'x'], finalizers: ['w'], '$deleteFromPrimitiveList/finalizers': ['y'] } }),
      DEPLOYMENT,
    ) as Json;
    assert.deepEqual(out['metadata']['finalizers'], ['z', 'w', 'x']);
  });

  it('updates Service ports by port and keeps the allocated nodePort', () => {
    const service = frozen({
      spec: {
        type: 'NodePort',
        clusterIP: '10.0.0.7',
        ports: [
          { name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' },
          { name: 'metrics', port: 9100, targetPort: 9100, nodePort: 30910, protocol: 'TCP' },
        ],
      },
    });
    const out = applyStrategicMergePatch(
      service,
      frozen({
        spec: {
          '$setElementOrder/ports': [{ port: 80 }, { port: 443 }],
          ports: [{ port: 80, targetPort: 8081 }, { name: 'https', port: 443, targetPort: 8443 }, { port: 9100, $patch: 'delete' }],
        },
      }),
      strategicSchemaFor('', 'Service')!,
    ) as Json;
    assert.deepEqual(out['spec']['ports'], [
      { name: 'http', port: 80, targetPort: 8081, nodePort: 30080, protocol: 'TCP' },
      { name: 'https', port: 443, targetPort: 8443 },
    ]);
    assert.equal(out['spec']['clusterIP'], '10.0.0.7');
  });
});

describe('applyStrategicMergePatch: other kinds and fields', () => {
  it('Pod: merges initContainers, ephemeralContainers, hostAliases, volumeDevices and status lists by their keys', () => {
    const pod = frozen({
      spec: {
        initContainers: [{ name: 'init', image: 'i:1', volumeDevices: [{ name: 'blk', devicePath: '/dev/xvda' }] }],
        ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
        hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }],
        containers: [{ name: 'c', image: 'c:1' }],
      },
      status: { conditions: [{ type: 'Ready', status: 'False' }], podIPs: [{ ip: '10.1.0.4' }] },
    });
    const out = applyStrategicMergePatch(
      pod,
      frozen({
        spec: {
          initContainers: [{ name: 'init', volumeDevices: [{ devicePath: '/dev/xvda', name: 'blk2' }] }],
          ephemeralContainers: [{ name: 'debug2', image: 'alpine' }],
          hostAliases: [{ ip: '10.0.0.1', hostnames: ['b'] }],
        },
        status: { conditions: [{ type: 'Ready', status: 'True' }], podIPs: [{ ip: 'fd00::4' }] },
      }),
      POD,
    ) as Json;
    assert.deepEqual(out['spec']['initContainers'], [{ name: 'init', image: 'i:1', volumeDevices: [{ name: 'blk2', devicePath: '/dev/xvda' }] }]);
    assert.deepEqual(names(out['spec']['ephemeralContainers']), ['debug2', 'debug']);
    assert.deepEqual(out['spec']['hostAliases'], [{ ip: '10.0.0.1', hostnames: ['b'] }], 'hostnames is not a merge list');
    assert.deepEqual(out['status']['conditions'], [{ type: 'Ready', status: 'True' }]);
    assert.deepEqual(out['status']['podIPs'], [{ ip: 'fd00::4' }, { ip: '10.1.0.4' }]);
  });

  it('ServiceAccount: merges secrets by name, replaces imagePullSecrets', () => {
    const out = applyStrategicMergePatch(
      frozen({ secrets: [{ name: 'tok-1' }], imagePullSecrets: [{ name: 'r1' }] }),
      frozen({ secrets: [{ name: 'tok-2' }], imagePullSecrets: [{ name: 'r2' }] }),
      strategicSchemaFor('', 'ServiceAccount')!,
    ) as Json;
    assert.deepEqual(out['secrets'], [{ name: 'tok-2' }, { name: 'tok-1' }]);
    assert.deepEqual(out['imagePullSecrets'], [{ name: 'r2' }]);
  });

  it('ConfigMap: merges data like a merge patch; Endpoints: replaces subsets', () => {
    const cm = applyStrategicMergePatch(frozen({ data: { a: '1', b: '2' } }), frozen({ data: { b: null, c: '3' } }), strategicSchemaFor('', 'ConfigMap')!);
    assert.deepEqual(cm, { data: { a: '1', c: '3' } });
    const ep = applyStrategicMergePatch(
      frozen({ subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] }),
      frozen({ subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] }),
      strategicSchemaFor('', 'Endpoints')!,
    );
    assert.deepEqual(ep, { subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] });
  });

  it('works on an empty target and with an empty schema (every list replaced, every map merged)', () => {
    assert.deepEqual(applyStrategicMergePatch(undefined, { a: { b: 1, c: null } }, {}), { a: { b: 1 } });
    assert.deepEqual(applyStrategicMergePatch({ l: [1, 2], m: { x: 1 } }, { l: [3], m: { y: 2 } }, {}), { l: [3], m: { x: 1, y: 2 } });
  });

  it('replaces a value of another type', () => {
    const schema: StrategicSchema = { fields: { l: { patchStrategy: 'merge', patchMergeKey: 'name' } } };
    assert.deepEqual(applyStrategicMergePatch({ l: 'text', m: [1] }, { l: [{ name: 'a' }], m: { k: 1 } }, schema), { l: [{ name: 'a' }], m: { k: 1 } });
  });
});

describe('applyStrategicMergePatch: errors', () => {
  const containers = (list: unknown[]): Json => ({ spec: { template: { spec: { containers: list } } } });

  it('refuses a patch that is not an object', () => {
    rejects(() => applyStrategicMergePatch({}, [1], DEPLOYMENT), 'PATCH_INVALID', /must be a JSON object, got an array/);
  });

  it('refuses unknown $patch values and unknown directives, naming the path', () => {
    rejects(() => patchDeployment({ spec: { selector: { $patch: 'explode' } } }), 'PATCH_INVALID', /^spec\.selector: unknown \$patch directive "explode"/);
    rejects(() => patchDeployment(containers([{ name: 'app', $patch: 'explode' }])), 'PATCH_INVALID', /spec\.template\.spec\.containers\[0\]: unknown \$patch directive/);
    rejects(() => patchDeployment({ metadata: { $frobnicate: 1 } }), 'PATCH_INVALID', /metadata\.\$frobnicate: unknown directive/);
    rejects(() => patchDeployment({ spec: { template: { spec: { tolerations: [{ $patch: 'delete', key: 'x' }] } } } }), 'PATCH_INVALID', /tolerations\[0\]: \$patch: delete needs a list with patchStrategy merge/);
  });

  it('refuses merge-list elements without their merge key', () => {
    rejects(() => patchDeployment(containers([{ image: 'x' }])), 'PATCH_INVALID', /containers\[0\]: list element has no merge key "name"/);
    rejects(() => patchDeployment(containers([{ $patch: 'delete', image: 'x' }])), 'PATCH_INVALID', /\$patch: delete needs the merge key "name"/);
  });

  it('refuses a $retainKeys that the patch itself contradicts, or that is not a list', () => {
    rejects(() => patchDeployment({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 1 } } } }), 'PATCH_INVALID', /spec\.strategy\.\$retainKeys: the patch sets "rollingUpdate"/);
    rejects(() => patchDeployment({ spec: { strategy: { $retainKeys: 'type' } } }), 'PATCH_INVALID', /must be a list of field names/);
  });

  it('refuses a $setElementOrder the patch list does not follow', () => {
    rejects(
      () => patchDeployment({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'x' }], containers: [{ name: 'x' }, { name: 'app' }] } } } }),
      'PATCH_INVALID',
      /containers\[1\]: the order of containers in the patch does not match \$setElementOrder\/containers/,
    );
    rejects(() => patchDeployment({ spec: { template: { spec: { '$setElementOrder/containers': [{ image: 'x' }] } } } }), 'PATCH_INVALID', /must be an object with the merge key "name"/);
  });

  it('refuses malformed $deleteFromPrimitiveList', () => {
    rejects(() => patchDeployment({ metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }), 'PATCH_INVALID', /must be a list of primitive values/);
  });

  it('reports a conflict when the stored list holds other elements than the patch assumes', () => {
    rejects(() => applyStrategicMergePatch({ metadata: { finalizers: [{ name: 'x' }] } }, { metadata: { finalizers: ['y'] } }, DEPLOYMENT), 'PATCH_CONFLICT', /metadata\.finalizers\[0\]: the list holds an object/);
  });

  it('refuses lists of lists', () => {
    rejects(() => applyStrategicMergePatch({}, { metadata: { finalizers: [['a']] } }, DEPLOYMENT), 'PATCH_INVALID', /lists of lists/);
  });
});
