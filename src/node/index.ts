/**
 * `tessera node`: Tessera's local runtime as a Kubernetes node — the parts of a kubelet Tessera
 * needs. It registers a Node with the cluster of a kubeconfig, keeps its Lease and Ready condition
 * fresh, runs the pods the scheduler binds to it with the local runtimes (registration.ts,
 * pods.ts), and serves the kubelet API the API server proxies `kubectl logs`, `exec` and
 * `port-forward` to (server.ts), over HTTPS with a serving certificate of the cluster's
 * kubelet-serving signer (serving-cert.ts) or given files.
 *
 * Pod networking is local mode's: in namespace mode (the default where the machine allows it) each
 * pod is a sandbox on the node's own bridge, its interception rules installed by the init container
 * the injector added (as on any cluster node), Services reached through the node's kube-proxy part
 * (the services chain from a mirror of the cluster's Services and Endpoints) and the controller
 * through a relay on the bridge gateway; in loopback mode pods get addresses of a leased
 * 127.B.0.0/16.
 */
import type { LogRotation } from '../local/container-log/index.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { stateFiles } from '../local/layout.js';
import { leaseMeshBlock, releaseMeshBlock } from '../local/mesh-file.js';
import '../local/runtime/index.js'; // registers the pipy image runtime, as local mode does
import { controllerUrl as controllerUrlOf } from '../local/layout.js';
import { decidePodNetwork, LOOPBACK_WARNINGS, type PodNetworkChoice } from '../local/runtime/pod-network.js';
import { SandboxHost } from '../local/runtime/sandbox-host.js';
import { NodeApi } from './api.js';
import { ServiceMirror } from './services.js';
import { NodePods } from './pods.js';
import { NodeRegistration } from './registration.js';
import { KubeletServer } from './server.js';
import { bootstrapServingCert, type ServingCert } from './serving-cert.js';

export { NodeApi, NodeApiError } from './api.js';
export { NodeRegistration, nodeStatus, NODE_LEASE_NAMESPACE, NODE_AGENT_LABEL } from './registration.js';
export { NodePods, type RunningPod } from './pods.js';
export { KubeletServer } from './server.js';
export { bootstrapServingCert, KUBELET_SERVING_SIGNER } from './serving-cert.js';

export const DEFAULT_KUBELET_PORT = 10250;

export interface NodeOptions {
  kubeconfig: string;
  /** default: the host name, lower-cased */
  nodeName?: string;
  /** the InternalIP the API server reaches the kubelet API at (default 127.0.0.1) */
  address?: string;
  /** kubelet API port (default 10250; 0 picks a free one) */
  port?: number;
  /** logs, pid files, the serving key (default ./.tessera-node/<name>) */
  rootDir?: string;
  /** serving certificate files; without them one is requested from the kubelet-serving signer */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** CA(s) the API server's client certificate must chain to (default: the kubeconfig's cluster CA) */
  clientCaFile?: string;
  /** how long to wait for the serving certificate's approval (default 5 min) */
  csrTimeoutMs?: number;
  maxPods?: number;
  /** for injected sidecars: the mesh's name and key (hex: the `mesh-key` of `tessera install`'s `<mesh>-mesh-key` Secret) */
  meshName?: string;
  meshKeyHex?: string;
  /**
   * for injected sidecars: the mesh CA (PEM, `ca.crt` of `<mesh>-ca-bundle`) they verify the
   * controller with; written to `<rootDir>/pki/ca.crt`, where the sidecar runtime points them
   */
  meshCaPem?: string;
  /** for injected sidecars: the controller's delivery URL (default https://127.B.0.2:6060, local mode's address) */
  controllerUrl?: string;
  workdir?: string;
  version?: string;
  /** default auto: namespace mode where the machine allows it */
  podNetwork?: PodNetworkChoice;
  /** `--container-log-max-size` / `--container-log-max-files` (the kubelet's defaults when absent) */
  logRotation?: LogRotation;
  log: (line: string) => void;
}

export interface RunningNode {
  nodeName: string;
  port: number;
  block: number;
  rootDir: string;
  stop(): Promise<void>;
}

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const nodeName = (opts.nodeName ?? hostname()).toLowerCase();
  const address = opts.address ?? '127.0.0.1';
  const rootDir = resolve(opts.rootDir ?? join('.tessera-node', nodeName));
  const api = NodeApi.fromKubeconfig(opts.kubeconfig);
  const log = opts.log;
  const block = leaseMeshBlock(rootDir);
  const cleanups: (() => Promise<void> | void)[] = [() => releaseMeshBlock(rootDir), () => api.close()];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log(`node ${nodeName}: stopping: ${(e as Error).message}`);
      }
    }
  };
  try {
    let serving: ServingCert;
    if (opts.tlsCertFile || opts.tlsKeyFile) {
      if (!opts.tlsCertFile || !opts.tlsKeyFile) throw new Error('--tls-cert-file and --tls-private-key-file go together');
      serving = { certPem: readFileSync(opts.tlsCertFile, 'utf8'), keyPem: readFileSync(opts.tlsKeyFile, 'utf8') };
    } else {
      serving = await bootstrapServingCert({
        api, nodeName, address, dir: join(rootDir, 'pki'), timeoutMs: opts.csrTimeoutMs ?? 5 * 60_000,
        onPending: (csr) => log(`node ${nodeName}: waiting for the approval of serving certificate request ${csr} (kubectl certificate approve ${csr})`),
      });
      log(`node ${nodeName}: serving certificate issued by the cluster's kubelet-serving signer`);
    }
    const clientCaPem = opts.clientCaFile ? readFileSync(opts.clientCaFile, 'utf8') : api.caPem;
    if (opts.meshKeyHex !== undefined && !/^([0-9a-f]{2})+$/i.test(opts.meshKeyHex)) throw new Error('the mesh key is not hex');
    const meshKey = opts.meshKeyHex ? Buffer.from(opts.meshKeyHex, 'hex') : randomBytes(32);
    if (opts.meshCaPem !== undefined) {
      if (!opts.meshCaPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('the mesh CA is not a PEM certificate');
      mkdirSync(join(rootDir, 'pki'), { recursive: true, mode: 0o700 });
      writeFileSync(stateFiles.apiCa(rootDir), opts.meshCaPem, { mode: 0o644 });
    }
    const meshName = opts.meshName ?? 'tessera';
    const network = await decidePodNetwork(opts.podNetwork ?? 'auto');
    let sandboxes: SandboxHost | undefined;
    if (network.mode === 'namespace') {
      const controllerUrl = new URL(opts.controllerUrl ?? controllerUrlOf(block));
      const services = new ServiceMirror(api, log);
      cleanups.push(() => services.stop());
      await services.synced();
      sandboxes = await SandboxHost.start({
        store: services, stateDir: rootDir, meshName, block, log, interception: 'init-container',
        // its own network: a local mesh of the same name on this machine has its own bridge
        networkName: `node-${nodeName}`.slice(0, 63),
        relays: [{ name: 'controller', port: Number(controllerUrl.port || 443), host: controllerUrl.hostname.replace(/^\[|\]$/g, '') }],
      });
      cleanups.push(() => sandboxes!.close());
    } else {
      log(`node ${nodeName}: pods in loopback mode${network.reason ? ` (${network.reason})` : ''}: ${LOOPBACK_WARNINGS.join('; ')}`);
    }
    const pods = new NodePods({
      api, nodeName, nodeIP: address, rootDir, block, meshName, meshKey,
      workdir: opts.workdir ?? process.cwd(), log, ...(opts.controllerUrl ? { controllerUrl: opts.controllerUrl } : {}),
      ...(sandboxes ? { sandboxes } : {}), ...(opts.logRotation ? { logRotation: opts.logRotation } : {}),
    });
    const server = new KubeletServer({
      api, nodeName, pods, block, workdir: opts.workdir ?? process.cwd(), certPem: serving.certPem, keyPem: serving.keyPem,
      clientCaPem, host: address, port: opts.port ?? DEFAULT_KUBELET_PORT, log,
    });
    const port = await server.listen();
    cleanups.push(() => server.close());
    log(`node ${nodeName}: kubelet API on https://${address}:${port}; ${sandboxes ? `pods in namespace mode (${sandboxes.net.mode}) on ${sandboxes.net.cidr}, gateway ${sandboxes.net.gateway}` : `pods on 127.${block}.0.0/16 (loopback)`}`);
    const registration = new NodeRegistration(api, {
      name: nodeName, address, port, maxPods: opts.maxPods ?? 110, version: opts.version ?? '0.0.0',
    }, log);
    await registration.register();
    cleanups.push(() => registration.stop());
    pods.start();
    cleanups.push(() => pods.stop());
    await pods.synced();
    log(`node ${nodeName}: Ready`);
    return { nodeName, port, block, rootDir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
