/** Helpers shared by the command modules: option collectors, kind/namespace resolution, state dir. */
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveKindName, type KindInfo } from '../../api/kinds.js';
import type { CliDeps } from '../deps.js';
import { UsageError } from '../errors.js';

/** commander collector for repeatable options (`-f a -f b`); kubectl also splits on commas. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

/** commander collector that keeps values whole (selectors contain commas of their own). */
export function collectRaw(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Several `-l` flags narrow the selection together (kubectl would keep only the last). */
export function joinSelectors(selectors: string[] | undefined): string | undefined {
  const parts = (selectors ?? []).map((s) => s.trim()).filter(Boolean);
  return parts.length ? parts.join(',') : undefined;
}

export function resolveKind(name: string): KindInfo {
  const info = resolveKindName(name);
  if (!info) throw new UsageError(`the server doesn't have a resource type "${name}"`);
  return info;
}

/** kubectl's namespace rule: namespaced kinds default to `default`, cluster-scoped kinds ignore -n. */
export function namespaceFor(info: KindInfo, namespace: string | undefined): string | undefined {
  return info.namespaced ? (namespace ?? 'default') : undefined;
}

export interface KindAndNames {
  info: KindInfo;
  names: string[];
}

/**
 * Reads `KIND NAME...` or `KIND/NAME...` (kubectl accepts both). Mixed `KIND/NAME` arguments must
 * all name the same kind here, which covers every form the seeds use.
 */
export function parseKindAndNames(args: string[]): KindAndNames {
  if (args.length === 0) throw new UsageError('you must specify the type of resource');
  if (args[0]!.includes('/')) {
    let info: KindInfo | undefined;
    const names: string[] = [];
    for (const arg of args) {
      const slash = arg.indexOf('/');
      if (slash <= 0) throw new UsageError(`there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'tessera get resource/<resource_name>' instead of 'tessera get resource resource/<resource_name>'`);
      const k = resolveKind(arg.slice(0, slash));
      if (info && info.kind !== k.kind) throw new UsageError(`mixing kinds (${info.plural}, ${k.plural}) in one command is not supported`);
      info = k;
      names.push(arg.slice(slash + 1));
    }
    return { info: info!, names };
  }
  return { info: resolveKind(args[0]!), names: args.slice(1) };
}

/** `pod/NAME` or `NAME` → NAME (for logs and exec, which only take pods). */
export function podNameArg(arg: string): string {
  const slash = arg.indexOf('/');
  if (slash < 0) return arg;
  const kind = resolveKindName(arg.slice(0, slash));
  if (kind?.kind !== 'Pod') throw new UsageError(`only pods are supported here, got "${arg}"`);
  return arg.slice(slash + 1);
}

/** `--state`, else `TESSERA_HOME`, else `./.tessera`; always absolute. */
export function resolveStateDir(state: string | undefined, deps: Pick<CliDeps, 'env' | 'cwd'>): string {
  const dir = state || deps.env['TESSERA_HOME'] || '.tessera';
  return isAbsolute(dir) ? dir : resolve(deps.cwd, dir);
}

export interface GlobalOptions {
  state?: string;
  namespace?: string;
}

/** Global options as this subcommand sees them (they may appear before or after the verb). */
export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function stateDirOf(cmd: Command, deps: CliDeps): string {
  return resolveStateDir(globalsOf(cmd).state, deps);
}

/** The namespace option, whether given before the verb (`tessera -n x get ...`) or after it. */
export function namespaceOf(cmd: Command): string | undefined {
  return globalsOf(cmd).namespace;
}

/** True for the mesh's not-found error (however it crossed the API boundary). */
export function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'MESH_ERR_NOT_FOUND';
}

/** Resolves at the first SIGINT or SIGTERM: how a long-running command (node, dashboard) learns to stop. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
