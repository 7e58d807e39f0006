/**
 * `fortio/fortio` images (any tag): the image's default command is `fortio server`, run on Tessera's
 * built-in fortio (src/apps/fortio) bound to the pod's app address (env HOST). Ready once the HTTP
 * and TCP echo ports accept connections (the gRPC port is served but not waited for: the mesh does
 * not carry HTTP/2 yet, see docs/fortio.md).
 */
import { basename } from 'node:path';
import { serverConfig } from '../../apps/fortio/index.js';
import { appEnv } from './app-env.js';
import { FORTIO_ENTRY, isFortioImage } from './fortio-image.js';
import type { ContainerContext, ImageRuntime } from './types.js';

export { FORTIO_ENTRY, isFortioImage };

/**
 * The fortio arguments a container runs: the image's entry point is `fortio` and its default
 * arguments `server`, so `args` alone replace `server`, and a `command` must start with fortio.
 */
export function fortioArgv(ctx: Pick<ContainerContext, 'container'>): string[] {
  const { command, args } = ctx.container;
  if (!command || command.length === 0) return args && args.length > 0 ? [...args] : ['server'];
  if (basename(command[0]!) !== 'fortio') {
    throw new Error(`container "${ctx.container.name}": the fortio image runs fortio; command ${JSON.stringify(command[0])} is not available locally (add a local.tessera.dev/command annotation)`);
  }
  return [...command.slice(1), ...(args ?? [])];
}

export const fortioRuntime: ImageRuntime = {
  name: 'fortio',
  matches: (image) => isFortioImage(image),
  command(ctx) {
    const argv = fortioArgv(ctx);
    // only a server has ports to wait for; `fortio load …` as a container is ready once started
    const config = argv[0] === 'server' ? serverConfig(argv.slice(1), { HOST: ctx.appAddress }, () => {}) : undefined;
    const ports = [config?.http?.port, config?.tcp?.port].filter((p): p is number => p !== undefined && p !== 0);
    return {
      command: process.execPath,
      args: [FORTIO_ENTRY, ...argv],
      env: appEnv(ctx, config?.http?.port),
      readiness: ports.length > 0 ? { kind: 'tcp', host: ctx.appAddress, ports } : { kind: 'started' },
    };
  },
};
