/** `tessera delete -f PATH...` or `delete KIND NAME...|-l SEL|--all`: remove objects, kubectl's report lines. */
import type { Command } from 'commander';
import type { ApplyResult } from '../../local/api-contract.js';
import type { CliDeps } from '../deps.js';
import { UsageError } from '../errors.js';
import { deletedLine } from '../output/results.js';
import { collectList, collectRaw, joinSelectors, namespaceFor, namespaceOf, parseKindAndNames, stateDirOf } from './common.js';

export interface DeleteOptions {
  stateDir: string;
  files: string[];
  /** `KIND NAME...` or `KIND/NAME...` when no files are given */
  args: string[];
  namespace?: string;
  selector?: string[];
  all?: boolean;
  ignoreNotFound?: boolean;
}

function report(deps: CliDeps, results: ApplyResult[]): void {
  // with --ignore-not-found the mesh may report objects it did not delete; kubectl stays silent on those
  deps.stdout.write(results.filter((r) => r.action === 'deleted').map(deletedLine).join(''));
}

export async function runDelete(opts: DeleteOptions, deps: CliDeps): Promise<void> {
  if (opts.files.length > 0) {
    if (opts.args.length > 0) throw new UsageError('cannot use -f together with KIND or NAME arguments');
    const docs = await deps.loadManifests(opts.files, deps.readStdin);
    const api = await deps.connect(opts.stateDir);
    report(deps, await api.deleteDocuments(docs, { namespace: opts.namespace, ignoreNotFound: opts.ignoreNotFound }));
    return;
  }
  const { info, names } = parseKindAndNames(opts.args);
  const selector = joinSelectors(opts.selector);
  if (names.length === 0 && !selector && !opts.all) {
    throw new UsageError('resource(s) were provided, but no name was specified');
  }
  if (names.length > 0 && (selector || opts.all)) throw new UsageError('name cannot be provided when a selector or --all is specified');
  const namespace = namespaceFor(info, opts.namespace);
  const api = await deps.connect(opts.stateDir);
  let targets = names;
  if (targets.length === 0) {
    const found = await api.list({ kind: info.kind, namespace, labelSelector: selector });
    targets = found.map((o) => o.metadata.name);
    if (targets.length === 0) {
      deps.stderr.write(namespace ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n');
      return;
    }
  }
  for (const name of targets) {
    report(deps, [await api.delete(info.kind, name, namespace, { ignoreNotFound: opts.ignoreNotFound })]);
  }
}

export function registerDelete(program: Command, deps: CliDeps): void {
  program
    .command('delete')
    .description('Delete resources by file names, stdin, kind and names, or label selector')
    .argument('[args...]', 'KIND NAME... or KIND/NAME...')
    .option('-f, --filename <path>', 'file, directory or - for stdin (repeatable)', collectList)
    .option('-n, --namespace <ns>', 'namespace')
    .option('-l, --selector <selector>', 'delete the objects matching this label selector', collectRaw)
    .option('--all', 'delete every object of the kind in the namespace')
    .option('--ignore-not-found', 'treat a missing object as deleted')
    // accepted for kubectl compatibility; local deletion is immediate
    .option('--wait [bool]', 'ignored')
    .option('--now', 'ignored')
    .option('--force', 'ignored')
    .option('--grace-period <seconds>', 'ignored')
    .action(async (args: string[], o: Record<string, unknown>, cmd: Command) => {
      await runDelete(
        {
          stateDir: stateDirOf(cmd, deps),
          files: (o['filename'] as string[] | undefined) ?? [],
          args,
          namespace: namespaceOf(cmd),
          selector: o['selector'] as string[] | undefined,
          all: o['all'] === true,
          ignoreNotFound: o['ignoreNotFound'] === true,
        },
        deps,
      );
    });
}
