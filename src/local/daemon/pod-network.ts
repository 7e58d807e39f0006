/** The daemon's `--pod-network` step: decide the mode, say loudly what loopback mode leaves open, start the mesh network. */
import { decidePodNetwork, LOOPBACK_WARNINGS, podNetworkChoice, SandboxHost, type PodNetwork } from '../runtime/index.js';
import type { ResourceStore } from '../store/types.js';
import { meshSubnet } from '../sandbox/index.js';

/** The gateway createMeshNetwork gives this mesh (the first address of its default subnet). */
export function meshGateway(meshName: string): string {
  const base = meshSubnet(meshName).split('/')[0]!.split('.').map(Number);
  return [base[0], base[1], base[2], base[3]! + 1].join('.');
}

export async function startPodNetwork(opts: {
  choice: string | undefined;
  store: ResourceStore;
  stateDir: string;
  meshName: string;
  block: number;
  log: (line: string) => void;
}): Promise<{ mode: PodNetwork; sandboxes?: SandboxHost }> {
  const decision = await decidePodNetwork(podNetworkChoice(opts.choice));
  if (decision.mode === 'loopback') {
    opts.log(`WARNING: pod network: loopback mode${decision.reason ? ` (${decision.reason})` : ''}`);
    for (const w of LOOPBACK_WARNINGS) opts.log(`WARNING:   ${w}`);
    return { mode: 'loopback' };
  }
  const sandboxes = await SandboxHost.start({ store: opts.store, stateDir: opts.stateDir, meshName: opts.meshName, block: opts.block, log: opts.log, installedControllers: true });
  return { mode: 'namespace', sandboxes };
}
