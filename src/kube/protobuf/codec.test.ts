import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileTables,
  decodeKubeProtobuf,
  decodeMessage,
  encodeKubeProtobuf,
  encodeMessage,
  isKubeProtobuf,
  ProtobufDecodeError,
  ProtobufEncodeError,
  ProtobufUnsupportedError,
  schemaForKind,
  supportedKinds,
} from './index.js';

type J = Record<string, unknown>;

// --- a hand encoder written from the protobuf spec, independent of wire.ts ----------------------

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return out;
}
const vf = (field: number, n: number | bigint | boolean): number[] => [...varint(field << 3), ...varint(typeof n === 'boolean' ? (n ? 1 : 0) : n)];
const lf = (field: number, payload: number[] | string): number[] => {
  const bytes = typeof payload === 'string' ? [...Buffer.from(payload, 'utf8')] : payload;
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
};
const entry = (field: number, key: string, value: number[] | string): number[] => lf(field, [...lf(1, key), ...lf(2, value)]);
const envelope = (apiVersion: string, kind: string, raw: number[], extra: number[] = []): Buffer =>
  Buffer.from([0x6b, 0x38, 0x73, 0x00, ...lf(1, [...lf(1, apiVersion), ...lf(2, kind)]), ...lf(2, raw), ...extra]);

const T_2026 = 1767323045; // 2026-01-02T03:04:05Z

function roundTrip(obj: J): void {
  const bytes = encodeKubeProtobuf(obj);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
  const d = decodeKubeProtobuf(bytes);
  assert.equal(d.apiVersion, obj.apiVersion);
  assert.equal(d.kind, obj.kind);
  assert.deepEqual(d.object, obj);
}

describe('decode of bytes built by hand from the generated.proto field numbers', () => {
  it('Secret: ObjectMeta strings, labels map, Time, map<string,bytes>, type, *bool', () => {
    const meta = [
      ...lf(1, 'db'), ...lf(3, 'prod'), ...lf(5, 'u-1'), ...lf(6, '42'), ...vf(7, 3),
      ...lf(8, [...vf(1, T_2026), ...vf(2, 0)]),
      ...entry(11, 'app', 'web'), ...entry(12, 'note', 'x'),
      ...lf(13, [...lf(1, 'Deployment'), ...lf(3, 'web'), ...lf(4, 'o-1'), ...lf(5, 'apps/v1'), ...vf(6, true)]),
      ...lf(14, 'example.com/f'),
    ];
    const raw = [...lf(1, meta), ...entry(2, 'pw', [0x00, 0xff, 0x10]), ...lf(3, 'Opaque'), ...entry(4, 's', 'plain'), ...vf(5, true)];
    const d = decodeKubeProtobuf(envelope('v1', 'Secret', raw));
    assert.deepEqual(d.object, {
      apiVersion: 'v1', kind: 'Secret',
      metadata: {
        name: 'db', namespace: 'prod', uid: 'u-1', resourceVersion: '42', generation: 3, creationTimestamp: '2026-01-02T03:04:05Z',
        labels: { app: 'web' }, annotations: { note: 'x' },
        ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'o-1', apiVersion: 'apps/v1', controller: true }],
        finalizers: ['example.com/f'],
      },
      data: { pw: Buffer.from([0x00, 0xff, 0x10]).toString('base64') },
      type: 'Opaque',
      stringData: { s: 'plain' },
      immutable: true,
    });
  });

  it('Deployment: pointer int32 zero kept, IntOrString int and string, inline ProbeHandler, Quantity map', () => {
    const container = [
      ...lf(1, 'web'), ...lf(2, 'nginx'), ...lf(3, 'nginx'), ...lf(4, '-g'), ...lf(4, 'daemon off;'),
      ...lf(6, [...lf(1, 'http'), ...vf(3, 80), ...lf(4, 'TCP')]),
      ...lf(7, [...lf(1, 'PASSWORD'), ...lf(3, lf(4, [...lf(1, lf(1, 'db')), ...lf(2, 'pw')]))]),
      ...lf(8, [...entry(1, 'cpu', lf(1, '500m')), ...entry(2, 'memory', lf(1, '64Mi'))]),
      ...lf(11, [...lf(1, lf(2, [...lf(1, '/healthz'), ...lf(2, [...vf(1, 1), ...vf(2, 0), ...lf(3, 'http')])])), ...vf(4, 5)]),
      ...lf(10, [...lf(1, lf(3, lf(1, [...vf(1, 0), ...vf(2, 8080), ...lf(3, '')]))), ...vf(2, 3)]),
    ];
    const podSpec = [...lf(1, [...lf(1, 'data'), ...lf(2, lf(2, []))]), ...lf(2, container)];
    const spec = [
      ...vf(1, 0),
      ...lf(2, entry(1, 'app', 'web')),
      ...lf(3, [...lf(1, entry(11, 'app', 'web')), ...lf(2, podSpec)]),
      ...lf(4, [...lf(1, 'RollingUpdate'), ...lf(2, [...lf(1, [...vf(1, 0), ...vf(2, 0)]), ...lf(2, [...vf(1, 1), ...lf(3, '25%')])])]),
    ];
    const d = decodeKubeProtobuf(envelope('apps/v1', 'Deployment', [...lf(1, lf(1, 'web')), ...lf(2, spec)]));
    assert.deepEqual(d.object, {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            volumes: [{ name: 'data', emptyDir: {} }],
            containers: [{
              name: 'web', image: 'nginx', command: ['nginx'], args: ['-g', 'daemon off;'],
              ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
              env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } }],
              resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 3 },
            }],
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      },
    });
  });

  it('TokenRequest, Scale and Eviction', () => {
    const tr = decodeKubeProtobuf(envelope('authentication.k8s.io/v1', 'TokenRequest', [
      ...lf(2, [...lf(1, 'mesh'), ...lf(1, 'api'), ...lf(3, [...lf(1, 'Pod'), ...lf(2, 'v1'), ...lf(3, 'p'), ...lf(4, 'pod-uid')]), ...vf(4, 3600)]),
    ]));
    assert.deepEqual(tr.object, {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: { audiences: ['mesh', 'api'], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'pod-uid' }, expirationSeconds: 3600 },
    });
    const scale = decodeKubeProtobuf(envelope('autoscaling/v1', 'Scale', [...lf(1, [...lf(1, 'web'), ...lf(3, 'default')]), ...lf(2, vf(1, 5))]));
    assert.deepEqual(scale.object, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 5 } });
    const ev = decodeKubeProtobuf(envelope('policy/v1', 'Eviction', [
      ...lf(1, [...lf(1, 'p'), ...lf(3, 'default')]), ...lf(2, [...vf(1, 0), ...lf(2, lf(1, 'pod-uid')), ...lf(5, 'All')]),
    ]));
    assert.deepEqual(ev.object, {
      apiVersion: 'policy/v1', kind: 'Eviction',
      metadata: { name: 'p', namespace: 'default' },
      deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'pod-uid' }, dryRun: ['All'] },
    });
  });

  it('negative int32/int64 use 10-byte two\'s complement varints', () => {
    const raw = lf(2, [...lf(2, lf(1, 'c')), ...lf(14, [...vf(2, -1n), ...vf(5, -5n)])]);
    const d = decodeKubeProtobuf(envelope('v1', 'Pod', raw));
    assert.deepEqual(d.object.spec, { containers: [{ name: 'c' }], securityContext: { runAsUser: -1, fsGroup: -5 } });
  });
});

describe('bodies recorded from kubectl 1.32 (gogo writes every non-pointer field)', () => {
  it('create namespace demo', () => {
    const hex = '6b3873000a0f0a02763112094e616d657370616365121c0a140a0464656d6f12001a0022002a0032003800420012001a020a001a002200';
    assert.deepEqual(decodeKubeProtobuf(Buffer.from(hex, 'hex')), {
      apiVersion: 'v1', kind: 'Namespace', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } },
    });
    // Our encoder leaves the zero fields out, so it is shorter but decodes the same.
    assert.deepEqual(decodeKubeProtobuf(encodeKubeProtobuf({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } })).object,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  });

  it('create deployment web --image=nginx:1.27 --replicas=0 --port=8080', () => {
    const hex = '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412be010a1f0a0377656212001a0022002a003200380042005a0a0a036170701203776562128c010800120c0a0a0a0361707012037765621a720a1c0a0012001a0022002a003200380042005a0a0a036170701203776562125212340a056e67696e78120a6e67696e783a312e32372a00320b0a00100018903f22002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200';
    assert.deepEqual(decodeKubeProtobuf(Buffer.from(hex, 'hex')).object, {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }] } },
      },
    });
  });
});

describe('round trips (encode then decode gives the JSON object back)', () => {
  const meta = {
    name: 'x', generateName: 'x-', namespace: 'ns', uid: 'u', resourceVersion: '7', generation: 2,
    creationTimestamp: '2026-01-02T03:04:05Z', deletionTimestamp: '2026-01-03T00:00:00Z', deletionGracePeriodSeconds: 0,
    labels: { a: '1', 'b.example.com/c': '' }, annotations: { note: 'hello\nworld' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'r', controller: true, blockOwnerDeletion: false }],
    finalizers: ['f1', 'f2'],
    managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2026-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } } } }],
  };

  it('Namespace', () => roundTrip({ apiVersion: 'v1', kind: 'Namespace', metadata: meta, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z', reason: 'R', message: 'm' }] } }));

  it('ConfigMap (pointer false kept, binaryData)', () =>
    roundTrip({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b', empty: '' }, binaryData: { bin: Buffer.from([1, 2, 3, 255]).toString('base64') }, immutable: false }));

  it('Secret', () =>
    roundTrip({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 'dg==', e: '' }, stringData: { p: 'plain' }, type: 'kubernetes.io/tls', immutable: true }));

  it('ServiceAccount', () =>
    roundTrip({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' }, secrets: [{ name: 'tok', namespace: 'ns', kind: 'Secret', apiVersion: 'v1', uid: 'u', resourceVersion: '1', fieldPath: 'f' }], imagePullSecrets: [{ name: 'reg' }], automountServiceAccountToken: false }));

  it('Service', () =>
    roundTrip({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'default' },
      spec: {
        ports: [{ name: 'http', protocol: 'TCP', appProtocol: 'http', port: 80, targetPort: 'http', nodePort: 30080 }, { name: 'grpc', port: 9090, targetPort: 9091 }],
        selector: { app: 'web' }, clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1', 'fd00::1'], type: 'NodePort', externalIPs: ['1.2.3.4'],
        sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, externalTrafficPolicy: 'Local',
        ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack', internalTrafficPolicy: 'Cluster', publishNotReadyAddresses: true,
        allocateLoadBalancerNodePorts: false,
      },
      status: { loadBalancer: { ingress: [{ ip: '5.6.7.8', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP', error: '' }] }] }, conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1, lastTransitionTime: '2026-01-02T03:04:05Z', reason: 'Ok' }] },
    }));

  const podSpec = {
    volumes: [
      { name: 'secret', secret: { secretName: 's', items: [{ key: 'k', path: 'p', mode: 0o400 }], defaultMode: 420, optional: false } },
      { name: 'cm', configMap: { name: 'c', items: [{ key: 'a', path: 'b' }] } },
      { name: 'scratch', emptyDir: {} },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'host', hostPath: { path: '/var/run', type: 'Directory' } },
      { name: 'proj', projected: { sources: [{ serviceAccountToken: { audience: 'mesh', expirationSeconds: 3600, path: 'token' } }, { configMap: { name: 'ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }], defaultMode: 420 } },
      { name: 'claim', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
    ],
    initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'] }],
    containers: [{
      name: 'app', image: 'example/app:1', command: ['/app'], args: ['--port', '8080'], workingDir: '/work',
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { containerPort: 9090, hostPort: 19090, hostIP: '127.0.0.1' }],
      envFrom: [{ prefix: 'CM_', configMapRef: { name: 'c', optional: true } }, { secretRef: { name: 's' } }],
      env: [
        { name: 'A', value: '1' },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: false } } },
        { name: 'C', valueFrom: { configMapKeyRef: { name: 'c', key: 'a' } } },
        { name: 'D', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
        { name: 'E', valueFrom: { resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } } },
      ],
      resources: { limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: '100m' } },
      volumeMounts: [{ name: 'secret', mountPath: '/etc/secret', readOnly: true }, { name: 'cm', mountPath: '/etc/cm', subPath: 'b', mountPropagation: 'None' }],
      livenessProbe: { httpGet: { path: '/live', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X', value: 'y' }] }, initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 },
      readinessProbe: { tcpSocket: { port: 8080 }, timeoutSeconds: 2, successThreshold: 1 },
      startupProbe: { exec: { command: ['cat', '/ready'] }, terminationGracePeriodSeconds: 0 },
      lifecycle: { preStop: { sleep: { seconds: 5 } } },
      imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
      securityContext: { runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] }, seccompProfile: { type: 'RuntimeDefault' }, privileged: false },
      stdin: true, stdinOnce: true, tty: true,
    }],
    restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', nodeSelector: { 'kubernetes.io/os': 'linux' },
    serviceAccountName: 'sa', automountServiceAccountToken: false, hostNetwork: true, shareProcessNamespace: true,
    securityContext: { fsGroup: 2000, runAsGroup: 3000, supplementalGroups: [1, 2, 3], sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
    imagePullSecrets: [{ name: 'reg' }], hostname: 'h', subdomain: 'sub', schedulerName: 'default-scheduler',
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, topologyKey: 'kubernetes.io/hostname' } }] }, nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }] } } },
    tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }],
    hostAliases: [{ ip: '127.0.0.1', hostnames: ['a', 'b'] }], priorityClassName: 'high', priority: 0,
    dnsConfig: { nameservers: ['1.1.1.1'], options: [{ name: 'ndots', value: '2' }] }, enableServiceLinks: false, overhead: { cpu: '10m' },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, minDomains: 2 }],
    os: { name: 'linux' },
  };

  it('Pod (spec and status)', () =>
    roundTrip({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels: { app: 'web' } }, spec: podSpec,
      status: {
        phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z' }], hostIP: '10.0.0.2', podIP: '10.1.0.5',
        podIPs: [{ ip: '10.1.0.5' }], startTime: '2026-01-02T03:04:00Z', qosClass: 'Burstable',
        containerStatuses: [{ name: 'app', ready: true, restartCount: 2, image: 'example/app:1', imageID: 'sha', containerID: 'c://1', started: true, state: { running: { startedAt: '2026-01-02T03:04:01Z' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-01-02T03:04:00Z' } } }],
      },
    }));

  it('Deployment', () =>
    roundTrip({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 0, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] },
        template: { metadata: { labels: { app: 'web' }, annotations: { a: 'b' } }, spec: podSpec },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        minReadySeconds: 5, revisionHistoryLimit: 0, paused: true, progressDeadlineSeconds: 600,
      },
      status: { observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 1, conditions: [{ type: 'Available', status: 'False', lastUpdateTime: '2026-01-02T03:04:05Z', lastTransitionTime: '2026-01-02T03:04:05Z', reason: 'MinimumReplicasUnavailable', message: 'm' }], collisionCount: 0 },
    }));

  it('TokenRequest', () =>
    roundTrip({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'sa', namespace: 'default' }, spec: { audiences: ['mesh'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'u' } }, status: { token: 'jwt', expirationTimestamp: '2026-01-02T03:14:05Z' } }));

  it('Scale', () =>
    roundTrip({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default', resourceVersion: '9' }, spec: { replicas: 3 }, status: { replicas: 2, selector: 'app=web' } }));

  it('Eviction and DeleteOptions (under any group version)', () => {
    roundTrip({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'u', resourceVersion: '' }, orphanDependents: false, propagationPolicy: 'Background', dryRun: ['All'] } });
    roundTrip({ apiVersion: 'apps/v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground', gracePeriodSeconds: 30 });
    roundTrip({ apiVersion: 'v1', kind: 'DeleteOptions', dryRun: ['All'] });
  });

  it('Status', () =>
    roundTrip({ apiVersion: 'v1', kind: 'Status', metadata: { resourceVersion: '1' }, status: 'Failure', message: 'pods "p" not found', reason: 'NotFound', details: { name: 'p', kind: 'pods', causes: [{ reason: 'FieldValueInvalid', message: 'bad', field: 'spec.x' }], retryAfterSeconds: 1 }, code: 404 }));

  it('lists', () =>
    roundTrip({ apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion: '5', continue: 'tok', remainingItemCount: 0 }, items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' }, status: { phase: 'Terminating' } }] }));

  it('non-pointer zero values are dropped, as a Go client would have them', () => {
    const d = decodeKubeProtobuf(encodeKubeProtobuf({ apiVersion: 'v1', kind: 'Service', metadata: { name: '', labels: {} }, spec: { ports: [{ port: 80, targetPort: 0, nodePort: 0 }], publishNotReadyAddresses: false } }));
    assert.deepEqual(d.object, { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80 }] } });
  });

  it('times with an offset or a fraction become UTC whole seconds', () => {
    const d = decodeKubeProtobuf(encodeKubeProtobuf({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', creationTimestamp: '2026-01-02T05:04:05.75+02:00' } }));
    assert.deepEqual(d.object.metadata, { name: 'n', creationTimestamp: '2026-01-02T03:04:05Z' });
  });
});

describe('robustness', () => {
  const ns = (metaExtra: number[]): Buffer => envelope('v1', 'Namespace', lf(1, [...lf(1, 'n'), ...metaExtra]));

  it('skips unknown fields of every wire type', () => {
    const unknown = [
      ...vf(99, 12345), // varint
      ...varint((98 << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8, // fixed64
      ...lf(97, 'whatever'), // length-delimited
      ...varint((96 << 3) | 5), 1, 2, 3, 4, // fixed32
      ...varint((95 << 3) | 3), ...vf(1, 7), ...lf(2, 'g'), ...varint((95 << 3) | 4), // group
    ];
    assert.deepEqual(decodeKubeProtobuf(ns(unknown)).object, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
  });

  it('merges a repeated singular message and lets the last scalar win', () => {
    const raw = [...lf(1, [...lf(1, 'first'), ...entry(11, 'a', '1')]), ...lf(1, [...lf(1, 'second'), ...entry(11, 'b', '2')])];
    assert.deepEqual(decodeKubeProtobuf(envelope('v1', 'Namespace', raw)).object.metadata, { name: 'second', labels: { a: '1', b: '2' } });
  });

  it('accepts packed repeated numbers', () => {
    const packed = lf(4, [...varint(1), ...varint(2), ...varint(300)]);
    const d = decodeKubeProtobuf(envelope('v1', 'Pod', lf(2, lf(14, packed))));
    assert.deepEqual(d.object.spec, { securityContext: { supplementalGroups: [1, 2, 300] } });
  });

  it('an empty Time message is the zero time (JSON null) and is left out, even for a pointer field', () => {
    assert.deepEqual(decodeKubeProtobuf(ns([...lf(8, []), ...lf(9, [])])).object.metadata, { name: 'n' });
  });

  it('map keys stay data (no prototype pollution)', () => {
    const d = decodeKubeProtobuf(ns(entry(11, '__proto__', 'x')));
    const labels = (d.object.metadata as J).labels as J;
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.deepEqual(Object.keys(labels), ['__proto__']);
    assert.equal(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value, 'x');
  });

  it('a map entry without a value gets the zero value', () => {
    assert.deepEqual(decodeKubeProtobuf(ns(lf(11, lf(1, 'k')))).object.metadata, { name: 'n', labels: { k: '' } });
  });

  it('names the field path of malformed input', () => {
    const cases: [Buffer, RegExp | string][] = [
      [ns(vf(3, 5)), 'metadata.namespace'], // varint where a string belongs
      [ns([...varint((11 << 3) | 2), 10, ...lf(1, 'k')]), 'metadata.labels'], // entry longer than the message
      [envelope('apps/v1', 'Deployment', lf(2, lf(3, lf(2, lf(2, [...lf(1, 'c'), ...lf(6, vf(3, 1)), ...lf(6, [...varint((3 << 3) | 0), 0x80])]))))), 'spec.template.spec.containers[0].ports[1].containerPort'],
      [envelope('apps/v1', 'Deployment', lf(2, lf(4, lf(2, lf(2, vf(1, 7)))))), 'spec.strategy.rollingUpdate.maxSurge'], // IntOrString type 7
      [ns(lf(8, vf(1, 1n << 62n))), 'metadata.creationTimestamp'],
    ];
    for (const [body, path] of cases) {
      assert.throws(() => decodeKubeProtobuf(body), (e: unknown) => {
        assert.ok(e instanceof ProtobufDecodeError, String(e));
        assert.equal(e.path, path);
        return true;
      });
    }
  });

  it('rejects a body without the magic, a truncated body and an envelope without a kind', () => {
    assert.throws(() => decodeKubeProtobuf(Buffer.from('{"kind":"Namespace"}')), ProtobufDecodeError);
    const good = encodeKubeProtobuf({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    // Cutting at a field boundary leaves valid protobuf, so cut only inside `raw` (after typeMeta's 17 bytes).
    for (let cut = 4 + 17 + 1; cut < good.length - 4; cut++) {
      assert.throws(() => decodeKubeProtobuf(good.subarray(0, cut)), ProtobufDecodeError, `cut at ${cut}`);
    }
    assert.throws(() => decodeKubeProtobuf(envelope('v1', '', [])), ProtobufDecodeError);
  });

  it('refuses kinds without a schema and content encodings with ProtobufUnsupportedError', () => {
    assert.throws(() => decodeKubeProtobuf(envelope('batch/v1', 'Job', lf(1, lf(1, 'j')))), (e: unknown) => {
      assert.ok(e instanceof ProtobufUnsupportedError);
      assert.equal(e.apiVersion, 'batch/v1');
      assert.equal(e.kind, 'Job');
      return true;
    });
    assert.throws(() => decodeKubeProtobuf(envelope('v1', 'Namespace', [], lf(3, 'gzip'))), ProtobufUnsupportedError);
    assert.throws(() => encodeKubeProtobuf({ apiVersion: 'v1', kind: 'Node' }), ProtobufUnsupportedError);
  });

  it('takes raw JSON when the envelope says so', () => {
    const d = decodeKubeProtobuf(envelope('batch/v1', 'Job', [...Buffer.from('{"metadata":{"name":"j"}}')], lf(4, 'application/json')));
    assert.deepEqual(d.object, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' } });
  });

  it('encode names the path of a value of the wrong type', () => {
    const cases: [J, string][] = [
      [{ apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: '3' } }, 'spec.replicas'],
      [{ apiVersion: 'v1', kind: 'Secret', data: { k: 'not base64!' } }, 'data["k"]'],
      [{ apiVersion: 'v1', kind: 'Namespace', metadata: { creationTimestamp: 'yesterday' } }, 'metadata.creationTimestamp'],
      [{ apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 'c', ports: [{ containerPort: 2 ** 31 }] }] } }, 'spec.containers[0].ports[0].containerPort'],
      [{ apiVersion: 'v1', kind: 'Namespace', metadata: { finalizers: 'x' } }, 'metadata.finalizers'],
    ];
    for (const [obj, path] of cases) {
      assert.throws(() => encodeKubeProtobuf(obj), (e: unknown) => e instanceof ProtobufEncodeError && e.path === path, path);
    }
  });
});

describe('schemas', () => {
  it('cover the kinds kubectl sends as protobuf', () => {
    const kinds = supportedKinds().map((k) => `${k.apiVersion} ${k.kind}`);
    for (const k of ['v1 Namespace', 'v1 ConfigMap', 'v1 Secret', 'v1 ServiceAccount', 'v1 Service', 'v1 Pod', 'v1 Status', 'apps/v1 Deployment', 'authentication.k8s.io/v1 TokenRequest', 'autoscaling/v1 Scale', 'policy/v1 Eviction', 'v1 PodList']) {
      assert.ok(kinds.includes(k), k);
    }
    assert.ok(schemaForKind('rbac.authorization.k8s.io/v1', 'DeleteOptions'));
    assert.equal(schemaForKind('v1', 'Deployment'), undefined);
  });

  it('spot-check field numbers against generated.proto', () => {
    const num = (apiVersion: string, kind: string, json: string) => schemaForKind(apiVersion, kind)!.fields.find((f) => f.json === json)?.number;
    assert.equal(num('v1', 'Secret', 'immutable'), 5);
    assert.equal(num('v1', 'Secret', 'stringData'), 4);
    assert.equal(num('v1', 'ConfigMap', 'binaryData'), 3);
    assert.equal(num('authentication.k8s.io/v1', 'TokenRequest', 'spec'), 2);
  });

  it('compileTables rejects dangling references and bad declarations', () => {
    assert.throws(() => compileTables({ A: { 1: 'b Missing' } }), /unknown message Missing/);
    assert.throws(() => compileTables({ A: { 1: 'b map[int]string' } }), /cannot parse/);
    assert.throws(() => compileTables({ A: { 1: ',inline string' } }), /inline/);
  });

  it('MicroTime, double and repeated Time work in a custom table', () => {
    const s = compileTables({ M: { 1: 'at MicroTime', 2: 'ratio double', 3: 'times []Time', 4: 'ratios []double' } }).get('M')!;
    // messageSchema() only knows the built-in tables, so the custom table must not reference messages.
    const obj = { at: '2026-01-02T03:04:05.123456Z', ratio: 0.25, times: ['2026-01-02T03:04:05Z'], ratios: [1.5, -2] };
    assert.deepEqual(decodeMessage(s, encodeMessage(s, obj)), obj);
  });
});

describe('isKubeProtobuf', () => {
  it('matches the media type with parameters, but not the watch stream or other types', () => {
    assert.equal(isKubeProtobuf('application/vnd.kubernetes.protobuf'), true);
    assert.equal(isKubeProtobuf('Application/VND.Kubernetes.Protobuf; charset=utf-8'), true);
    assert.equal(isKubeProtobuf('application/vnd.kubernetes.protobuf;stream=watch'), false);
    assert.equal(isKubeProtobuf('application/json'), false);
    assert.equal(isKubeProtobuf('application/vnd.kubernetes.protobuf+json'), false);
    assert.equal(isKubeProtobuf(undefined), false);
    assert.equal(isKubeProtobuf(''), false);
  });
});
