/** Realistic objects as a local mesh serves them, for output and command tests. */
import type { Resource } from '../../api/types.js';

const CREATED = '2024-01-01T00:00:00Z';

export function pod(name: string, namespace: string, labels: Record<string, string>, podIP: string, ready = true): Resource {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      creationTimestamp: CREATED,
      labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: name.replace(/-[a-z0-9]+$/, ''), uid: 'rs' }],
    },
    spec: {
      serviceAccountName: labels['app'],
      containers: [
        { name: labels['app'] ?? 'app', image: 'curlimages/curl' },
        { name: 'sidecar', image: 'tessera/sidecar' },
      ],
    },
    status: {
      phase: ready ? 'Running' : 'Pending',
      podIP,
      podIPs: [{ ip: podIP }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        { name: labels['app'] ?? 'app', image: 'curlimages/curl', ready, restartCount: 0, state: ready ? { running: { startedAt: CREATED } } : { waiting: { reason: 'ContainerCreating' } } },
        { name: 'sidecar', image: 'tessera/sidecar', ready, restartCount: 1, state: { running: { startedAt: CREATED } } },
      ],
    },
  };
}

export const curlPod = pod('curl-7d8f9c6b5d-x2x7q', 'curl', { app: 'curl', 'pod-template-hash': '7d8f9c6b5d' }, '127.7.1.1');
export const httpbinPod = pod('httpbin-5c7b9d6f4-k8s2m', 'httpbin', { app: 'httpbin', version: 'v1' }, '127.7.1.2');
export const pendingPod = pod('httpbin-5c7b9d6f4-zzzzz', 'httpbin', { app: 'httpbin', version: 'v2' }, '127.7.1.3', false);

export const caSecret: Resource = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'fsm-ca-bundle', namespace: 'fsm-system', creationTimestamp: CREATED },
  type: 'Opaque',
  data: { 'ca.crt': 'LS0tLS1CRUdJTi0tLS0t', 'private.key': 'cmVkYWN0ZWQ=' },
};

export const httpbinService: Resource = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'httpbin', namespace: 'httpbin', creationTimestamp: CREATED, labels: { app: 'httpbin' } },
  spec: { selector: { app: 'httpbin' }, clusterIP: '127.7.128.1', ports: [{ name: 'http', port: 14001, protocol: 'TCP', targetPort: 14001 }] },
};

export const httpbinDeployment: Resource = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'httpbin', namespace: 'httpbin', creationTimestamp: CREATED, labels: { app: 'httpbin' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'httpbin' } },
    template: { metadata: { labels: { app: 'httpbin' } }, spec: { containers: [{ name: 'httpbin', image: 'kennethreitz/httpbin' }] } },
  },
  status: { replicas: 1, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1 },
};

export function namespace(name: string, labels?: Record<string, string>, annotations?: Record<string, string>): Resource {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, creationTimestamp: CREATED, labels, annotations }, status: { phase: 'Active' } };
}

export const tokenInjector: Resource = {
  apiVersion: 'plugin.flomesh.io/v1alpha1',
  kind: 'Plugin',
  metadata: { name: 'token-injector', creationTimestamp: '2024-01-01T00:04:55Z' },
  spec: { priority: 115, pipyscript: '(pipy())' },
};

export const meshConfig: Resource = {
  apiVersion: 'config.flomesh.io/v1alpha3',
  kind: 'MeshConfig',
  metadata: { name: 'fsm-mesh-config', namespace: 'fsm-system', creationTimestamp: CREATED },
  spec: { featureFlags: { enablePluginPolicy: false } },
};
