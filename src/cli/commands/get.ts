/** `tessera get KIND [NAME...]`: kubectl-style tables, json, yaml, name and jsonpath output. */
import type { Command } from 'commander';
import type { Resource } from '../../api/types.js';
import type { CliDeps } from '../deps.js';
import { CliExit } from '../deps.js';
import { formatError } from '../errors.js';
import { parseOutputFormat } from '../output/format.js';
import { printObjects } from '../output/print.js';
import { collectRaw, isNotFound, joinSelectors, namespaceFor, namespaceOf, parseKindAndNames, stateDirOf } from './common.js';

export interface GetOptions {
  stateDir: string;
  /** `KIND [NAME...]` or `KIND/NAME...` */
  args: string[];
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string[];
  output?: string;
  showLabels?: boolean;
  noHeaders?: boolean;
  ignoreNotFound?: boolean;
}

export async function runGet(opts: GetOptions, deps: CliDeps): Promise<void> {
  const { info, names } = parseKindAndNames(opts.args);
  const format = parseOutputFormat(opts.output);
  const namespace = namespaceFor(info, opts.namespace);
  const allNamespaces = info.namespaced && opts.allNamespaces === true;
  const api = await deps.connect(opts.stateDir);

  let objects: Resource[];
  let failed = false;
  if (names.length > 0) {
    objects = [];
    // like kubectl: print what was found, report each missing name, then fail
    for (const name of names) {
      try {
        objects.push(await api.get(info.kind, name, namespace));
      } catch (e) {
        if (opts.ignoreNotFound && isNotFound(e)) continue;
        deps.stderr.write(formatError(e));
        failed = true;
      }
    }
    if (failed && objects.length === 0) throw new CliExit(1);
  } else {
    objects = await api.list({
      kind: info.kind,
      namespace: allNamespaces ? undefined : namespace,
      allNamespaces,
      labelSelector: joinSelectors(opts.selector),
    });
  }

  const printed = printObjects({
    kind: info.kind,
    objects,
    single: names.length === 1,
    format,
    namespace: allNamespaces ? undefined : namespace,
    allNamespaces,
    showLabels: opts.showLabels,
    noHeaders: opts.noHeaders,
    nowMs: deps.nowMs(),
  });
  deps.stdout.write(printed.stdout);
  deps.stderr.write(printed.stderr);
  if (failed) throw new CliExit(1);
}

export function registerGet(program: Command, deps: CliDeps): void {
  program
    .command('get')
    .description('Display one or many resources')
    .argument('<kind>', 'kind (pods, pod, po, plugin, pluginchain, ...) or KIND/NAME')
    .argument('[names...]', 'names of objects')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('-l, --selector <selector>', 'label selector (app=curl,version!=v2)', collectRaw)
    .option('-o, --output <format>', 'json|yaml|wide|name|jsonpath=TEMPLATE')
    .option('--show-labels', 'add a LABELS column')
    .option('--no-headers', 'omit the table header')
    .option('--ignore-not-found', 'treat a missing NAME as empty')
    .action(async (kind: string, names: string[], o: Record<string, unknown>, cmd: Command) => {
      await runGet(
        {
          stateDir: stateDirOf(cmd, deps),
          args: [kind, ...names],
          namespace: namespaceOf(cmd),
          allNamespaces: o['allNamespaces'] === true,
          selector: o['selector'] as string[] | undefined,
          output: o['output'] as string | undefined,
          showLabels: o['showLabels'] === true,
          // commander turns --no-headers into headers=false
          noHeaders: o['headers'] === false,
          ignoreNotFound: o['ignoreNotFound'] === true,
        },
        deps,
      );
    });
}
