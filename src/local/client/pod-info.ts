/** What `tessera exec` needs to run a command as if inside a local pod: its addresses and environment. */
import { join } from 'node:path';
import type { Pod } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { PodProcessInfo } from '../api-contract.js';
import { podIPOf } from '../controllers/address-allocation.js';
import { hasSidecar } from '../controllers/well-known.js';
import { localIPFor, SIDECAR_ADMIN_PORT, SIDECAR_OUTBOUND_PORT, stateFiles, UPSTREAMS_FILE } from '../layout.js';
import { UPSTREAMS_FILE_ENV } from '../runtime/app-env.js';
import { imageToolDirs } from '../runtime/image-tools.js';


export function podProcessInfo(pod: Pod, block: number, stateDir: string): PodProcessInfo {
  const { name, namespace } = pod.metadata as { name: string; namespace: string };
  const podIP = podIPOf(pod, block);
  if (!podIP) throw new MeshError('MESH_ERR_NOT_FOUND', `pod "${name}" has no IP yet`);
  const localIP = localIPFor(podIP);
  // NO_PROXY is cleared so a NO_PROXY inherited from the user's shell cannot route mesh traffic around the sidecar.
  const env: Record<string, string> = { POD_NAME: name, POD_NAMESPACE: namespace, POD_IP: podIP, NO_PROXY: '', no_proxy: '' };
  // the image's own commands (fortio in a fortio pod) come first on PATH, as they would in the container
  const tools = imageToolDirs(pod);
  if (tools.length > 0) env.PATH = [...tools, process.env['PATH'] ?? '/usr/bin:/bin'].join(':');
  const info: PodProcessInfo = { namespace, name, podIP, localIP, containers: (pod.spec?.containers ?? []).map((c) => c.name), env };
  if (hasSidecar(pod)) {
    info.proxyUrl = `http://${localIP}:${SIDECAR_OUTBOUND_PORT}`;
    info.adminUrl = `http://${podIP}:${SIDECAR_ADMIN_PORT}`;
    env.http_proxy = info.proxyUrl;
    env.HTTP_PROXY = info.proxyUrl;
    env[UPSTREAMS_FILE_ENV] = join(stateFiles.podDir(stateDir, namespace, name), UPSTREAMS_FILE);
  }
  return info;
}
