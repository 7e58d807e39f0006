/** `tessera apply -f PATH...`: create or update everything the manifests describe (all or nothing). */
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { UsageError } from '../errors.js';
import { resultLine } from '../output/results.js';
import { collectList, namespaceOf, stateDirOf } from './common.js';

export interface ApplyOptions {
  stateDir: string;
  files: string[];
  namespace?: string;
}

export async function runApply(opts: ApplyOptions, deps: CliDeps): Promise<void> {
  if (opts.files.length === 0) throw new UsageError('must specify one of -f and -k');
  // load before connecting so a typo in a manifest is reported even when no mesh runs
  const docs = await deps.loadManifests(opts.files, deps.readStdin);
  const api = await deps.connect(opts.stateDir);
  const results = await api.apply(docs, { namespace: opts.namespace });
  // kubectl prints server warnings on stderr as `Warning: text`, before the result lines
  for (const r of results) for (const w of r.warnings ?? []) deps.stderr.write(`Warning: ${w}\n`);
  deps.stdout.write(results.map(resultLine).join(''));
}

export function registerApply(program: Command, deps: CliDeps): void {
  program
    .command('apply')
    .description('Apply a configuration to resources by file name or stdin')
    .option('-f, --filename <path>', 'file, directory or - for stdin (repeatable)', collectList)
    .option('-n, --namespace <ns>', 'namespace for objects that do not name one')
    .action(async (o: { filename?: string[] }, cmd: Command) => {
      await runApply({ stateDir: stateDirOf(cmd, deps), files: o.filename ?? [], namespace: namespaceOf(cmd) }, deps);
    });
}
