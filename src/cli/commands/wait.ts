/** `tessera wait --for=condition=ready|available|delete KIND[/NAME] [-l SEL] --timeout=90s`. */
import type { Command } from 'commander';
import type { Deployment, Pod, Resource } from '../../api/types.js';
import type { ListQuery } from '../../local/api-contract.js';
import { CliExit, type CliDeps } from '../deps.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { objectName, pluralKind } from '../output/names.js';
import { collectRaw, joinSelectors, namespaceFor, namespaceOf, parseKindAndNames, stateDirOf } from './common.js';

export interface WaitOptions {
  stateDir: string;
  /** `KIND [NAME...]` or `KIND/NAME...` */
  args: string[];
  for?: string;
  namespace?: string;
  selector?: string[];
  all?: boolean;
  timeout?: string;
}

/** `condition=Ready` → `ready`, `delete` → `delete`: the condition names the mesh API understands. */
export function parseWaitFor(value: string | undefined): string {
  if (!value) throw new UsageError('--for must be set to one of: condition=ready, condition=available, delete');
  if (value === 'delete') return 'delete';
  const m = /^condition=([^=]+)(?:=(.*))?$/i.exec(value);
  if (!m) throw new UsageError(`unrecognized condition: "${value}"`);
  if (m[2] !== undefined && m[2].toLowerCase() !== 'true') throw new UsageError(`only condition=NAME (=True) is supported, got "${value}"`);
  return m[1]!.toLowerCase();
}

/** Whether an object already satisfies the condition; used to report which objects timed out. */
export function conditionMet(obj: Resource, condition: string): boolean {
  if (condition === 'delete') return false;
  const conditions = ((obj.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  if (conditions.some((c) => c.type.toLowerCase() === condition && c.status === 'True')) return true;
  if (obj.kind === 'Deployment' && condition === 'available') {
    const d = obj as Deployment;
    return (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1);
  }
  if (obj.kind === 'Pod' && condition === 'ready') {
    return ((obj as Pod).status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  }
  return false;
}

function isTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'MESH_ERR_TIMEOUT';
}

export async function runWait(opts: WaitOptions, deps: CliDeps): Promise<void> {
  const condition = parseWaitFor(opts.for);
  const timeoutMs = parseDuration(opts.timeout ?? '30s');
  const { info, names } = parseKindAndNames(opts.args);
  const selector = joinSelectors(opts.selector);
  if (names.length === 0 && !selector && !opts.all) throw new UsageError('resource(s) were provided, but no name, label selector, or --all flag specified');
  if (names.length > 1) throw new UsageError('wait takes one NAME at a time here; use -l to wait for several objects');
  const namespace = namespaceFor(info, opts.namespace);
  const query: ListQuery = { kind: info.kind, namespace, labelSelector: selector, name: names[0] };
  const api = await deps.connect(opts.stateDir);
  // kubectl treats a negative timeout as "a week"
  const effectiveTimeout = timeoutMs < 0 ? 7 * 24 * 3_600_000 : timeoutMs;
  // objects vanish when deleted, so remember which ones we are waiting for to report them
  const before = condition === 'delete' ? await api.list(query) : [];
  let met: Resource[];
  try {
    met = await api.wait(query, condition, effectiveTimeout);
    if (condition === 'delete' && met.length === 0) met = before;
    // a named object already gone is a met delete condition, and kubectl says so
    if (condition === 'delete' && met.length === 0 && names[0]) {
      met = [{ apiVersion: info.apiVersion, kind: info.kind, metadata: { name: names[0], namespace } }];
    }
  } catch (e) {
    if (!isTimeout(e)) throw e;
    await reportTimeout(deps, api.list(query), info.kind, condition, names[0]);
    throw new CliExit(1);
  }
  if (met.length === 0 && condition !== 'delete') throw new UsageError('no matching resources found');
  deps.stdout.write(met.map((o) => `${objectName({ ...o, kind: o.kind || info.kind })} condition met\n`).join(''));
}

/** kubectl prints the objects that made it, then one error line per object that did not. */
async function reportTimeout(deps: CliDeps, listing: Promise<Resource[]>, kind: string, condition: string, name?: string): Promise<void> {
  const objects = await listing.catch(() => [] as Resource[]);
  const pending = objects.filter((o) => !conditionMet(o, condition));
  for (const o of objects.filter((o) => conditionMet(o, condition))) deps.stdout.write(`${objectName(o)} condition met\n`);
  const names = pending.length > 0 ? pending.map((o) => o.metadata.name) : name ? [name] : [];
  if (names.length === 0) deps.stderr.write('error: timed out waiting for the condition\n');
  for (const n of names) deps.stderr.write(`error: timed out waiting for the condition on ${pluralKind(kind)}/${n}\n`);
}

export function registerWait(program: Command, deps: CliDeps): void {
  program
    .command('wait')
    .description('Wait for a condition on one or many resources')
    .argument('<args...>', 'KIND [NAME] or KIND/NAME')
    .option('--for <condition>', 'condition=ready, condition=available or delete')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-l, --selector <selector>', 'label selector', collectRaw)
    .option('--all', 'every object of the kind in the namespace')
    .option('--timeout <duration>', 'how long to wait (e.g. 90s, 2m)', '30s')
    .action(async (args: string[], o: Record<string, unknown>, cmd: Command) => {
      await runWait(
        {
          stateDir: stateDirOf(cmd, deps),
          args,
          for: o['for'] as string | undefined,
          namespace: namespaceOf(cmd),
          selector: o['selector'] as string[] | undefined,
          all: o['all'] === true,
          timeout: o['timeout'] as string | undefined,
        },
        deps,
      );
    });
}
