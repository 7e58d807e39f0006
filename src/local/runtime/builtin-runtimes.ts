/** The image runtimes Tessera ships: sidecar, control plane, annotated local commands, httpbin, curl, fortio. */
import { fileURLToPath } from 'node:url';
import type { Container } from '../../api/types.js';
import { LOCAL_COMMAND_ANNOTATION } from '../../api/types.js';
import { SIDECAR_CONTAINER_NAME as SIDECAR_CONTAINER, SIDECAR_IMAGE } from '../controllers/well-known.js';
import { CONTROLLER_PORT, PROXY_UUID_LABEL, SIDECAR_ADMIN_PORT, SIDECAR_CREDENTIAL_ENV, SIDECAR_ENV, SIDECAR_EXIT_UNRESPONSIVE, sidecarControlEnv, stateFiles } from '../layout.js';
import { appEnv, firstContainerPort, specEnv } from './app-env.js';
import { CLUSTER_IMAGE_RUNTIMES } from './cluster-image-runtimes.js';
import { CONTROL_PLANE_RUNTIMES } from './control-plane-runtimes.js';
import { fortioRuntime } from './fortio-runtime.js';
import { imageName } from './image-name.js';
import { stsRuntime } from './sts-runtime.js';
import { SIDECAR_TRANSPARENT_ENV, TRANSPARENT_INBOUND_PORT } from '../../sidecar/listeners/transparent.js';
import { SIDECAR_NODE_FLAGS } from '../../sidecar/node-flags.js';
import type { ContainerContext, ImageRuntime, PodShape, ReadinessCheck } from './types.js';

/** What the sidecar's own exit codes mean, for its last state and the pod's events. */
export const SIDECAR_EXIT_REASONS: Readonly<Record<number, string>> = { [SIDECAR_EXIT_UNRESPONSIVE]: 'SidecarUnresponsive' };

export { imageName } from './image-name.js';
export { BOOTSTRAP_IMAGE, CONTROLLER_IMAGE, INJECTOR_IMAGE } from './control-plane-runtimes.js';
export { SIDECAR_CONTAINER, SIDECAR_IMAGE };

/** Entry points resolve next to this compiled file, so dist and test builds each run their own copy. */
const entry = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

/** The per-container annotation wins over the pod-wide one. */
export function localCommandFor(pod: PodShape, container: Container): string | undefined {
  const a = pod.metadata?.annotations ?? {};
  return a[`${LOCAL_COMMAND_ANNOTATION}-${container.name}`] ?? a[LOCAL_COMMAND_ANNOTATION];
}

/** Honour a declared readinessProbe; otherwise TCP-connect to every declared port. */
function appReadiness(ctx: ContainerContext, ports: number[]): ReadinessCheck {
  const probe = ctx.container.readinessProbe;
  const port = (p: number | string): number => (typeof p === 'number' ? p : portByName(ctx.container, p));
  if (probe?.httpGet) {
    const path = probe.httpGet.path ?? '/';
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    return {
      kind: 'http', url: `http://${ctx.appAddress}:${port(probe.httpGet.port)}${path.startsWith('/') ? path : `/${path}`}`,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
    };
  }
  if (probe?.tcpSocket) return { kind: 'tcp', host: ctx.appAddress, ports: [port(probe.tcpSocket.port)] };
  return ports.length > 0 ? { kind: 'tcp', host: ctx.appAddress, ports } : { kind: 'started' };
}

function portByName(container: Container, name: string): number {
  const found = container.ports?.find((p) => p.name === name)?.containerPort ?? Number(name);
  return Number.isFinite(found) ? found : 0;
}

const declaredPorts = (c: Container): number[] => (c.ports ?? []).map((p) => p.containerPort);

/**
 * What PipyJS scripts see as `os.env`: the sidecar container's env as its pod spec declares it,
 * credentials never (neither the runtime's nor Secret keys: scripts are plugin code).
 */
function scriptEnv(ctx: ContainerContext): Record<string, string> {
  const { objects: _objects, ...withoutObjects } = ctx;
  const env = specEnv(withoutObjects);
  for (const name of SIDECAR_CREDENTIAL_ENV) delete env[name];
  return env;
}

const sidecarRuntime: ImageRuntime = {
  name: 'sidecar',
  matches: (image) => imageName(image) === SIDECAR_IMAGE,
  command(ctx) {
    const { pod } = ctx;
    const uuid = pod.metadata.labels?.[PROXY_UUID_LABEL] ?? '';
    return {
      command: process.execPath,
      args: [...SIDECAR_NODE_FLAGS, entry('../../sidecar/main.js')],
      env: {
        [SIDECAR_ENV.podName]: pod.metadata.name,
        [SIDECAR_ENV.podNamespace]: pod.metadata.namespace,
        [SIDECAR_ENV.podUID]: pod.metadata.uid ?? '',
        [SIDECAR_ENV.podIP]: ctx.podIP,
        [SIDECAR_ENV.localIP]: ctx.appAddress,
        [SIDECAR_ENV.serviceAccount]: pod.spec?.serviceAccountName ?? 'default',
        [SIDECAR_ENV.proxyUUID]: uuid,
        // the controller's https URL and CA, a fresh short-lived proxy token, the admin token
        ...sidecarControlEnv({ stateDir: ctx.stateDir, block: ctx.block, meshKeyHex: Buffer.from(ctx.meshKey).toString('hex'), uuid }),
        // a sandboxed sidecar reaches the controller through the relay on the mesh bridge (mesh-relay.ts)
        ...(ctx.sandbox ? { [SIDECAR_ENV.controllerUrl]: `https://${ctx.sandbox.gateway}:${CONTROLLER_PORT}` } : {}),
        [SIDECAR_ENV.dataDir]: ctx.sandbox ? ctx.sandbox.sidecarDataDir : stateFiles.podDir(ctx.stateDir, pod.metadata.namespace, pod.metadata.name),
        [SIDECAR_ENV.meshName]: ctx.meshName,
        ...(ctx.sandbox ? { [SIDECAR_TRANSPARENT_ENV]: String(TRANSPARENT_INBOUND_PORT), [SIDECAR_ENV.controllerCa]: ctx.sandbox.caFile } : {}),
        [SIDECAR_ENV.scriptEnv]: JSON.stringify(scriptEnv(ctx)),
        // the watchdog's threshold, when the pod spec sets it for the sidecar container (docs/plugins.md)
        ...watchdogEnv(ctx),
      },
      readiness: { kind: 'http', url: `http://${ctx.podIP}:${SIDECAR_ADMIN_PORT}/ready` },
    };
  },
};

function watchdogEnv(ctx: ContainerContext): Record<string, string> {
  const { objects: _objects, ...withoutObjects } = ctx;
  const v = specEnv(withoutObjects)[SIDECAR_ENV.watchdogMs];
  return v === undefined ? {} : { [SIDECAR_ENV.watchdogMs]: v };
}

/** Explicit beats implicit: an annotated command runs whatever the image says. */
const localCommandRuntime: ImageRuntime = {
  name: 'local-command',
  matches: (_image, container, pod) => localCommandFor(pod, container) !== undefined,
  command(ctx) {
    const ports = declaredPorts(ctx.container);
    return {
      command: '/bin/sh',
      args: ['-c', localCommandFor(ctx.pod, ctx.container) ?? ''],
      env: appEnv(ctx, ports[0]),
      cwd: ctx.workdir,
      readiness: appReadiness(ctx, ports),
    };
  },
};

/** The value of gunicorn's last `-b VALUE` / `-bVALUE` / `--bind VALUE` / `--bind=VALUE`, with its index. */
function findBind(argv: string[]): { index: number; value: string; prefix: string } | undefined {
  let found: { index: number; value: string; prefix: string } | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '-b' || a === '--bind') && i + 1 < argv.length) found = { index: ++i, value: argv[i]!, prefix: '' };
    else if (a.startsWith('--bind=')) found = { index: i, value: a.slice(7), prefix: '--bind=' };
    else if (a.startsWith('-b') && a.length > 2) found = { index: i, value: a.slice(2), prefix: '-b' };
  }
  return found;
}

/** The port gunicorn's bind flag names, if any. */
export function gunicornBindPort(argv: string[]): number | undefined {
  const value = findBind(argv)?.value;
  const port = value === undefined ? NaN : Number(value.slice(value.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/**
 * Manifests say `-b 0.0.0.0:14001`; locally a wildcard bind would take the port on every pod's
 * address at once, so it is narrowed to the pod's app address (the port stays).
 */
export function narrowWildcardBind(argv: string[], appAddress: string): string[] {
  const bind = findBind(argv);
  if (!bind) return argv;
  const colon = bind.value.lastIndexOf(':');
  const host = colon === -1 ? bind.value : bind.value.slice(0, colon);
  if (!['', '0.0.0.0', '::', '[::]'].includes(host)) return argv;
  const out = [...argv];
  out[bind.index] = `${bind.prefix}${appAddress}:${colon === -1 ? '' : bind.value.slice(colon + 1)}`;
  return out;
}

const httpbinRuntime: ImageRuntime = {
  name: 'httpbin',
  matches: (image) => imageName(image).includes('httpbin'),
  command(ctx) {
    const argv = [...(ctx.container.command ?? []), ...(ctx.container.args ?? [])];
    const port = firstContainerPort(ctx.container, 80);
    const bindPort = gunicornBindPort(argv) ?? port;
    return {
      command: process.execPath,
      args: [entry('../../apps/httpbin/main.js'), ...narrowWildcardBind(argv, ctx.appAddress)],
      env: appEnv(ctx, port),
      readiness: appReadiness(ctx, [bindPort]),
    };
  },
};

/** curl images in the samples only `sleep`; `tessera exec` runs curl itself, so no process is needed. */
const curlRuntime: ImageRuntime = {
  name: 'curl',
  matches: (image, container) =>
    imageName(image).includes('curl') && (container.command === undefined || container.command.length === 0 || container.command[0] === 'sleep'),
  command: () => ({ args: [], env: {}, readiness: { kind: 'started' } }),
};

/** In lookup order: system images first (a pod-wide annotation must not replace the sidecar). */
export const BUILTIN_RUNTIMES: readonly ImageRuntime[] = [sidecarRuntime, ...CONTROL_PLANE_RUNTIMES, ...CLUSTER_IMAGE_RUNTIMES, stsRuntime, localCommandRuntime, httpbinRuntime, curlRuntime, fortioRuntime];
