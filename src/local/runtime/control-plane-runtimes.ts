/**
 * Runtimes of the control plane's own images: `tessera/controller`, `tessera/injector` and
 * `tessera/bootstrap`, each a Node process at a fixed address of the mesh block.
 *
 * They reach the API as their ServiceAccounts (`<mesh>-controller`, `<mesh>-bootstrap` in
 * `<mesh>-system`, with the Roles `tessera install` gives them: system-objects.ts): the pod's
 * projected token (service-account-token.ts), named by `TESSERA_API_TOKEN_FILE` and re-read as it
 * rotates. No component holds an all-powerful credential. The injector calls no API in local mode;
 * the daemon calls it with a per-run webhook secret (mesh.json's `apiToken`, which the API does not
 * accept).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  API_PORT, BOOTSTRAP_ENV, BOOTSTRAP_PORT, CONTROLLER_ENV, CONTROLLER_PORT, INJECTOR_ENV, INJECTOR_PORT,
  apiAddress, bootstrapAddress, controllerAddress, injectorAddress, stateFiles, type MeshFile,
} from '../layout.js';
import { API_TOKEN_FILE_ENV } from '../../kube/auth/token-file.js';
import { imageName } from './image-name.js';
import { serviceAccountTokenFile } from './service-account-token.js';
import type { ContainerContext, ImageRuntime } from './types.js';

export const CONTROLLER_IMAGE = 'tessera/controller';
export const INJECTOR_IMAGE = 'tessera/injector';
export const BOOTSTRAP_IMAGE = 'tessera/bootstrap';

/** Entry points resolve next to this compiled file, so dist and test builds each run their own copy. */
const entry = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

/**
 * The API URL and the injector's webhook secret: per daemon run, they live only in mesh.json,
 * written before any pod starts.
 */
function meshAccess(ctx: ContainerContext): { apiUrl: string; webhookToken: string } {
  let mesh: Partial<MeshFile> | undefined;
  try {
    mesh = JSON.parse(readFileSync(stateFiles.mesh(ctx.stateDir), 'utf8')) as Partial<MeshFile>;
  } catch {
    mesh = undefined;
  }
  return { apiUrl: mesh?.apiUrl ?? `https://${apiAddress(ctx.block)}:${API_PORT}`, webhookToken: mesh?.apiToken ?? '' };
}

/** The pod's ServiceAccount token, written (0600) and rotated by the runtime before the process starts. */
const tokenFile = (ctx: ContainerContext): string => serviceAccountTokenFile(ctx.stateDir, ctx.pod.metadata.namespace, ctx.pod.metadata.name);

const controllerRuntime: ImageRuntime = {
  name: 'controller',
  matches: (image) => imageName(image) === CONTROLLER_IMAGE,
  command(ctx) {
    const { apiUrl } = meshAccess(ctx);
    const listen = `${controllerAddress(ctx.block)}:${CONTROLLER_PORT}`;
    return {
      command: process.execPath,
      // The controller binds its address at once; hand the address over instead of crash-looping.
      args: [entry('./await-address-main.js'), controllerAddress(ctx.block), String(CONTROLLER_PORT), entry('../../control-plane/main.js')],
      env: {
        [CONTROLLER_ENV.apiUrl]: apiUrl,
        [API_TOKEN_FILE_ENV]: tokenFile(ctx),
        [CONTROLLER_ENV.apiCa]: stateFiles.apiCa(ctx.stateDir),
        [CONTROLLER_ENV.meshName]: ctx.meshName,
        [CONTROLLER_ENV.listen]: listen,
        [CONTROLLER_ENV.meshKey]: Buffer.from(ctx.meshKey).toString('hex'),
        [CONTROLLER_ENV.stateDir]: ctx.stateDir,
        // issued by the cluster CA at `up` (issueServingCertificate); sidecars verify it
        [CONTROLLER_ENV.tlsCert]: stateFiles.servingCert(ctx.stateDir, 'controller'),
        [CONTROLLER_ENV.tlsKey]: stateFiles.servingKey(ctx.stateDir, 'controller'),
      },
      // Who answers, not just that something does: a squatter's certificate fails this.
      readiness: { kind: 'https', url: `https://${listen}/healthz`, caFile: stateFiles.apiCa(ctx.stateDir) },
    };
  },
};

/**
 * The fixed address acts as the component's Service: during a rollout the old pod answers the
 * probe until the new process takes the port over (it waits for it; see lib/listen-retry).
 */
const injectorRuntime: ImageRuntime = {
  name: 'injector',
  matches: (image) => imageName(image) === INJECTOR_IMAGE,
  command(ctx) {
    const listen = `${injectorAddress(ctx.block)}:${INJECTOR_PORT}`;
    return {
      command: process.execPath,
      args: [entry('../../injector/main.js')],
      env: {
        // not an API credential: what the daemon's webhook calls carry
        [INJECTOR_ENV.apiToken]: meshAccess(ctx).webhookToken,
        [INJECTOR_ENV.meshName]: ctx.meshName,
        [INJECTOR_ENV.listen]: listen,
        [INJECTOR_ENV.tlsCert]: stateFiles.servingCert(ctx.stateDir, 'injector'),
        [INJECTOR_ENV.tlsKey]: stateFiles.servingKey(ctx.stateDir, 'injector'),
      },
      readiness: { kind: 'https', url: `https://${listen}/healthz`, caFile: stateFiles.apiCa(ctx.stateDir) },
    };
  },
};

const bootstrapRuntime: ImageRuntime = {
  name: 'bootstrap',
  matches: (image) => imageName(image) === BOOTSTRAP_IMAGE,
  command(ctx) {
    const { apiUrl } = meshAccess(ctx);
    const listen = `${bootstrapAddress(ctx.block)}:${BOOTSTRAP_PORT}`;
    return {
      command: process.execPath,
      args: [entry('../../bootstrap/main.js')],
      env: {
        [BOOTSTRAP_ENV.apiUrl]: apiUrl,
        [API_TOKEN_FILE_ENV]: tokenFile(ctx),
        [BOOTSTRAP_ENV.apiCa]: stateFiles.apiCa(ctx.stateDir),
        [BOOTSTRAP_ENV.meshName]: ctx.meshName,
        [BOOTSTRAP_ENV.listen]: listen,
      },
      // 200 only once its watch has synced.
      readiness: { kind: 'http', url: `http://${listen}/healthz` },
    };
  },
};

export const CONTROL_PLANE_RUNTIMES: readonly ImageRuntime[] = [controllerRuntime, injectorRuntime, bootstrapRuntime];
