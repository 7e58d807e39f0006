/** Helpers for the daemon suites. */
import { CONTROLLER_PORT, controllerAddress } from '../layout.js';
import { readMeshFile } from '../mesh-file.js';
import { registerImageRuntime } from '../runtime/index.js';

/** mesh.json, or undefined while it is missing or half written. */
export function safeMesh(dir: string) {
  try {
    return readMeshFile(dir);
  } catch {
    return undefined;
  }
}

/**
 * A stand-in control plane for `tessera/controller` images (answers `ok` on its healthz address),
 * so a suite does not depend on src/control-plane being built.
 */
export function registerStandInController(): void {
  registerImageRuntime({
    name: 'controller',
    matches: (image) => image.startsWith('tessera/controller'),
    command: (ctx) => ({
      command: process.execPath,
      args: ['-e', `require('http').createServer((q, s) => s.end('ok')).listen(${CONTROLLER_PORT}, '${controllerAddress(ctx.block)}')`],
      env: {},
      readiness: { kind: 'http', url: `http://${controllerAddress(ctx.block)}:${CONTROLLER_PORT}/healthz` },
    }),
  });
}
