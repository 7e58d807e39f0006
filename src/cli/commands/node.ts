/**
 * `tessera node`: run this machine's local runtime as a node of the cluster in the current
 * kubeconfig (src/node): registers the Node, runs the pods bound to it, serves the kubelet API for
 * `kubectl logs/exec/port-forward`. Runs in the foreground until SIGINT or SIGTERM, then stops the
 * pods' processes (the Node object stays, as with a stopped kubelet; its lease then expires).
 */
import { logRotationOf } from '../../local/container-log/index.js';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { defaultKubeconfigPath } from '../../local/client/kubeconfig.js';
import { DEFAULT_KUBELET_PORT, startNode, type NodeOptions } from '../../node/index.js';
import type { CliDeps } from '../deps.js';
import { parseDuration } from '../duration.js';
import { podNetworkChoice } from '../../local/runtime/pod-network.js';
import { untilSignal } from './common.js';

interface NodeFlags {
  containerLogMaxSize?: string;
  containerLogMaxFiles?: string;
  kubeconfig?: string;
  nodeName?: string;
  address: string;
  port: string;
  rootDir?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  csrTimeout: string;
  maxPods: string;
  meshName?: string;
  meshKeyFile?: string;
  meshCaFile?: string;
  controllerUrl?: string;
  podNetwork?: string;
}

export async function runNode(opts: Omit<NodeOptions, 'log'>, deps: CliDeps, until?: Promise<void>): Promise<void> {
  const log = (line: string): void => void deps.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const node = await startNode({ ...opts, log });
  deps.stdout.write(`node ${node.nodeName} registered and Ready; kubelet API on port ${node.port}\n`);
  await (until ?? untilSignal());
  log(`node ${node.nodeName}: stopping its pods`);
  await node.stop();
  log(`node ${node.nodeName}: stopped`);
}

export function registerNode(program: Command, deps: CliDeps): void {
  program
    .command('node')
    .description('Run the local runtime as a Kubernetes node of the current kubeconfig\'s cluster (the parts of a kubelet Tessera needs)')
    .option('--kubeconfig <path>', 'kubeconfig (default: KUBECONFIG, else ~/.kube/config)')
    .option('--node-name <name>', 'the Node\'s name (default: the host name)')
    .option('--address <ip>', 'the node\'s InternalIP, where the kubelet API listens', '127.0.0.1')
    .option('--port <port>', 'the kubelet API\'s port (0: a free one)', String(DEFAULT_KUBELET_PORT))
    .option('--root-dir <dir>', 'container logs, pid files and the serving key (default ./.tessera-node/NAME)')
    .option('--tls-cert-file <file>', 'serving certificate (default: requested from the kubernetes.io/kubelet-serving signer)')
    .option('--tls-private-key-file <file>', 'the serving certificate\'s key')
    .option('--client-ca-file <file>', 'CA of the API server\'s kubelet client certificate (default: the kubeconfig\'s cluster CA)')
    .option('--csr-timeout <duration>', 'how long to wait for the serving certificate request\'s approval', '5m')
    .option('--max-pods <n>', 'pods the node accepts', '110')
    .option('--mesh-name <name>', 'the mesh injected sidecars belong to (default tessera)')
    .option('--mesh-key-file <file>', 'the mesh key (hex; `mesh-key` of the install\'s <mesh>-mesh-key Secret): sidecars\' proxy tokens')
    .option('--mesh-ca-file <file>', 'the mesh CA (`ca.crt` of <mesh>-ca-bundle) sidecars verify the controller with; copied to ROOT-DIR/pki/ca.crt')
    .option('--controller-url <url>', 'where sidecars reach the controller (default https://127.B.0.2:6060, B the node\'s address block)')
    .option('--container-log-max-size <quantity>', 'rotate a container\'s log once it reaches this size, e.g. 64Ki, 10Mi (default 10Mi, as the kubelet)')
    .option('--container-log-max-files <n>', 'log files kept per container, the one being written included (default 5, as the kubelet)')
    .option('--pod-network <mode>', 'namespace (pods in their own network namespaces, interception by the injected init container), loopback, or auto (namespace where possible; default, or $TESSERA_POD_NETWORK)')
    .action(async (o: NodeFlags) => {
      const port = Number(o.port);
      const maxPods = Number(o.maxPods);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${o.port}: not a port`);
      if (!Number.isInteger(maxPods) || maxPods < 1) throw new Error(`--max-pods ${o.maxPods}: not a positive integer`);
      if (o.controllerUrl !== undefined && !/^https:\/\/[^/]+\/?$/.test(o.controllerUrl)) throw new Error(`--controller-url ${o.controllerUrl}: an https://HOST:PORT URL`);
      const meshKeyHex = o.meshKeyFile ? readFileSync(o.meshKeyFile, 'utf8').trim() : undefined;
      if (meshKeyHex !== undefined && !/^([0-9a-f]{2})+$/i.test(meshKeyHex)) throw new Error(`--mesh-key-file ${o.meshKeyFile}: not a hex key`);
      await runNode({
        kubeconfig: o.kubeconfig ?? defaultKubeconfigPath(deps.env),
        address: o.address, port, maxPods, csrTimeoutMs: parseDuration(o.csrTimeout), workdir: deps.cwd, version: deps.version,
        ...(o.nodeName ? { nodeName: o.nodeName } : {}),
        ...(o.rootDir ? { rootDir: o.rootDir } : {}),
        ...(o.tlsCertFile ? { tlsCertFile: o.tlsCertFile } : {}),
        ...(o.tlsPrivateKeyFile ? { tlsKeyFile: o.tlsPrivateKeyFile } : {}),
        ...(o.clientCaFile ? { clientCaFile: o.clientCaFile } : {}),
        ...(o.meshName ? { meshName: o.meshName } : {}),
        ...(meshKeyHex ? { meshKeyHex } : {}),
        ...(o.meshCaFile ? { meshCaPem: readFileSync(o.meshCaFile, 'utf8') } : {}),
        ...(o.controllerUrl ? { controllerUrl: o.controllerUrl.replace(/\/$/, '') } : {}),
        podNetwork: podNetworkChoice(o.podNetwork, deps.env),
        logRotation: logRotationOf({ maxSize: o.containerLogMaxSize, maxFiles: o.containerLogMaxFiles }),
      }, deps);
    });
}
