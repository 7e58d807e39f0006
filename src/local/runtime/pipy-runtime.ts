/**
 * `flomesh/pipy` images (any tag): `pipy -e SCRIPT` or `pipy FILE` runs the script standalone on
 * Tessera's PipyJS runtime, with listen() bound to the pod's app address (env HOST). Ready once
 * every port the script listens on accepts connections.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appEnv } from './app-env.js';
import { imageName } from './builtin-runtimes.js';
import { registerImageRuntime } from './images.js';
import type { ContainerContext, ImageRuntime } from './types.js';

const ENTRY = fileURLToPath(new URL('../../pipyjs/main.js', import.meta.url));

export function isPipyImage(image: string): boolean {
  const name = imageName(image);
  return name === 'flomesh/pipy' || name.endsWith('/flomesh/pipy');
}

/** The container's argv without the leading `pipy` (the image's entry point). */
export function pipyArgv(command: readonly string[] | undefined, args: readonly string[] | undefined): string[] {
  const argv = [...(command ?? []), ...(args ?? [])];
  if (argv[0] === 'pipy' || argv[0]?.endsWith('/pipy')) argv.shift();
  return argv;
}

/** Ports a script listens on: `listen(8080)`, `listen('0.0.0.0:8080')`. */
export function listenPorts(script: string): number[] {
  const ports = new Set<number>();
  for (const m of script.matchAll(/\.listen\(\s*['"`]?(?:[^'"`\s),]*:)?(\d{1,5})/g)) ports.add(Number(m[1]));
  return [...ports];
}

function scriptOf(argv: readonly string[], cwd: string): string {
  const e = argv.findIndex((a) => a === '-e' || a === '--eval');
  if (e >= 0) return argv[e + 1] ?? '';
  const file = argv.find((a) => !a.startsWith('-'));
  if (!file) return '';
  const path = isAbsolute(file) ? file : join(cwd, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

export const pipyRuntime: ImageRuntime = {
  name: 'pipy',
  matches: (image) => isPipyImage(image),
  command(ctx: ContainerContext) {
    const argv = pipyArgv(ctx.container.command, ctx.container.args);
    if (argv.length === 0) throw new Error(`container "${ctx.container.name}": flomesh/pipy needs a command (pipy -e SCRIPT or pipy FILE)`);
    const declared = (ctx.container.ports ?? []).map((p) => p.containerPort);
    const ports = declared.length > 0 ? declared : listenPorts(scriptOf(argv, ctx.workdir));
    return {
      command: process.execPath,
      args: [ENTRY, ...argv],
      env: appEnv(ctx, ports[0]),
      cwd: ctx.workdir,
      readiness: ports.length > 0 ? { kind: 'tcp', host: ctx.appAddress, ports } : { kind: 'started' },
    };
  },
};

registerImageRuntime(pipyRuntime);
