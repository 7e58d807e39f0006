/** `tessera patch KIND NAME -p PATCH --type=merge`: a JSON merge patch (the only type Tessera supports). */
import type { Command } from 'commander';
import YAML from 'yaml';
import type { CliDeps } from '../deps.js';
import { UsageError } from '../errors.js';
import { qualifiedKind } from '../output/names.js';
import { namespaceFor, namespaceOf, parseKindAndNames, stateDirOf } from './common.js';

export interface PatchOptions {
  stateDir: string;
  /** `KIND NAME` or `KIND/NAME` */
  args: string[];
  namespace?: string;
  patch?: string;
  type?: string;
}

export function parsePatch(text: string | undefined): unknown {
  if (text === undefined || text.trim() === '') throw new UsageError('must specify -p to patch');
  let value: unknown;
  try {
    // kubectl accepts YAML as well as JSON for -p; YAML is a superset of JSON
    value = YAML.parse(text);
  } catch (e) {
    throw new UsageError(`unable to parse "${text}": ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`a merge patch must be a JSON object, got ${JSON.stringify(value)}`);
  }
  return value;
}

export async function runPatch(opts: PatchOptions, deps: CliDeps): Promise<void> {
  // kubectl's default (strategic) behaves like merge for the object-valued patches people write
  const type = opts.type ?? 'merge';
  if (type !== 'merge') {
    throw new UsageError(`--type=${type} is not supported: Tessera applies JSON merge patches only; use --type=merge`);
  }
  const { info, names } = parseKindAndNames(opts.args);
  if (names.length !== 1) throw new UsageError('patch takes exactly one object: KIND NAME or KIND/NAME');
  const patch = parsePatch(opts.patch);
  const api = await deps.connect(opts.stateDir);
  const r = await api.patch(info.kind, names[0]!, namespaceFor(info, opts.namespace), patch);
  const suffix = r.action === 'unchanged' ? ' (no change)' : '';
  deps.stdout.write(`${qualifiedKind(r.kind || info.kind)}/${r.name || names[0]} patched${suffix}\n`);
}

export function registerPatch(program: Command, deps: CliDeps): void {
  program
    .command('patch')
    .description('Update fields of a resource with a JSON merge patch')
    .argument('<args...>', 'KIND NAME or KIND/NAME')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-p, --patch <patch>', 'the patch, JSON or YAML')
    .option('--type <type>', 'patch type; only merge is supported')
    .action(async (args: string[], o: { patch?: string; type?: string }, cmd: Command) => {
      await runPatch({ stateDir: stateDirOf(cmd, deps), args, namespace: namespaceOf(cmd), patch: o.patch, type: o.type }, deps);
    });
}
