/**
 * The node's own objects, as a kubelet keeps them: the `Node` (registered once, its status patched
 * with a fresh Ready heartbeat) and its `Lease` in `kube-node-lease` (renewed every 10 s: the node
 * lifecycle controller reads node health from it).
 */
import { arch, cpus, hostname, platform, totalmem } from 'node:os';
import { microTime, kubeTime, NodeApiError, type NodeApi } from './api.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** As the kubelet: a 40 s lease renewed every quarter of it. */
export const LEASE_DURATION_S = 40;
export const LEASE_RENEW_MS = 10_000;
/** How often the Node's status (conditions' heartbeat) is written even when nothing changed. */
export const NODE_STATUS_MS = 60_000;
/** FSM-style label the node carries to say who runs it. */
export const NODE_AGENT_LABEL = 'node.tessera.dev/agent';

export interface NodeIdentity {
  name: string;
  /** the address the API server reaches the kubelet API at */
  address: string;
  /** the kubelet API's port */
  port: number;
  /** pods the node accepts */
  maxPods: number;
  version: string;
  labels?: Record<string, string>;
}

interface NodeObject {
  metadata: { name: string; uid?: string; labels?: Record<string, string>; resourceVersion?: string };
  status?: Record<string, unknown>;
}

function nodeLabels(id: NodeIdentity): Record<string, string> {
  return {
    'kubernetes.io/hostname': id.name,
    'kubernetes.io/os': platform(),
    'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
    'beta.kubernetes.io/os': platform(),
    'beta.kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
    'node.kubernetes.io/instance-type': 'tessera-local',
    [NODE_AGENT_LABEL]: 'tessera',
    ...id.labels,
  };
}

/** The Node's status as the kubelet reports it (the parts schedulers and kubectl read). */
export function nodeStatus(id: NodeIdentity, previous?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] }): Record<string, unknown> {
  const now = kubeTime();
  const capacity = {
    cpu: String(cpus().length || 1),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: String(id.maxPods),
    'ephemeral-storage': '10Gi',
  };
  const condition = (type: string, status: string, reason: string, message: string) => {
    const before = previous?.conditions?.find((c) => c.type === type);
    return {
      type, status, reason, message, lastHeartbeatTime: now,
      lastTransitionTime: before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now,
    };
  };
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (tessera node)'),
    ],
    // only InternalIP: the API server tries Hostname first, and the node's name need not resolve
    addresses: [{ type: 'InternalIP', address: id.address }],
    daemonEndpoints: { kubeletEndpoint: { Port: id.port } },
    nodeInfo: {
      machineID: '', systemUUID: '', bootID: '',
      kernelVersion: '', osImage: `Tessera local runtime on ${hostname()}`,
      containerRuntimeVersion: `tessera://${id.version}`,
      kubeletVersion: `v${id.version.replace(/^v/, '')}-tessera`, kubeProxyVersion: '',
      operatingSystem: platform(), architecture: arch() === 'x64' ? 'amd64' : arch(),
    },
  };
}

export class NodeRegistration {
  #api: NodeApi;
  #id: NodeIdentity;
  #log: (line: string) => void;
  #uid = '';
  #leaseTimer: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(api: NodeApi, id: NodeIdentity, log: (line: string) => void) {
    this.#api = api;
    this.#id = id;
    this.#log = log;
  }

  get uid(): string {
    return this.#uid;
  }

  /** Creates the Node (or takes over the one of the same name), writes its status, starts the heartbeats. */
  async register(): Promise<void> {
    const id = this.#id;
    const path = `/api/v1/nodes/${encodeURIComponent(id.name)}`;
    const created = await this.#api.call<NodeObject>('POST', '/api/v1/nodes', {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: id.name, labels: nodeLabels(id), annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
      spec: {},
      status: nodeStatus(id),
    });
    let node: NodeObject;
    if (created.status === 201 || created.status === 200) {
      node = created.body;
      this.#log(`node ${id.name}: registered with ${this.#api.server}`);
    } else if (created.status === 409) {
      // Registered before (a restart): keep the object, refresh its labels.
      node = await this.#api.must<NodeObject>('PATCH', path, { metadata: { labels: nodeLabels(id) } }, 'application/merge-patch+json');
      this.#log(`node ${id.name}: already registered; taking it over`);
    } else {
      throw new NodeApiError(created.status, '', `registering node ${id.name}: HTTP ${created.status}: ${(created.body as { message?: string } | undefined)?.message ?? created.text.slice(0, 300)}`);
    }
    this.#uid = node.metadata.uid ?? '';
    await this.writeStatus();
    await this.renewLease();
    this.#leaseTimer = setInterval(() => void this.renewLease().catch((e: unknown) => this.#log(`node ${id.name}: lease renewal failed: ${(e as Error).message}`)), LEASE_RENEW_MS);
    this.#statusTimer = setInterval(() => void this.writeStatus().catch((e: unknown) => this.#log(`node ${id.name}: status update failed: ${(e as Error).message}`)), NODE_STATUS_MS);
  }

  async writeStatus(): Promise<void> {
    if (this.#stopped) return;
    const path = `/api/v1/nodes/${encodeURIComponent(this.#id.name)}`;
    const current = await this.#api.must<NodeObject>('GET', path);
    const status = nodeStatus(this.#id, current.status as Parameters<typeof nodeStatus>[1]);
    // strategic merge: conditions and addresses merge by their keys, as the kubelet's patch does
    await this.#api.must('PATCH', `${path}/status`, { status }, 'application/strategic-merge-patch+json');
  }

  async renewLease(): Promise<void> {
    if (this.#stopped) return;
    const name = this.#id.name;
    const path = `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases/${encodeURIComponent(name)}`;
    const spec = { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_S, renewTime: microTime() };
    const got = await this.#api.call<{ metadata: Record<string, unknown>; spec?: Record<string, unknown> }>('GET', path);
    if (got.status === 404) {
      await this.#api.must('POST', `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases`, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: {
          name, namespace: NODE_LEASE_NAMESPACE,
          ownerReferences: this.#uid ? [{ apiVersion: 'v1', kind: 'Node', name, uid: this.#uid }] : [],
        },
        spec: { ...spec, acquireTime: microTime() },
      });
      return;
    }
    if (got.status !== 200) throw new Error(`GET lease ${name}: HTTP ${got.status}`);
    // an update with the resourceVersion read: a concurrent writer makes it fail, the next renewal retries
    await this.#api.must('PUT', path, { ...got.body, spec: { ...got.body.spec, ...spec } });
  }

  /** Stops the heartbeats; the Node stays (a kubelet does not deregister), its lease expires. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#leaseTimer);
    clearInterval(this.#statusTimer);
  }
}
