/** `tessera logs POD|pod/NAME [-c CONTAINER] [-f] [--tail N]`: a container's (or the sidecar's) log. */
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { UsageError } from '../errors.js';
import { namespaceOf, podNameArg, stateDirOf } from './common.js';

export interface LogsOptions {
  stateDir: string;
  pod: string;
  namespace?: string;
  container?: string;
  follow?: boolean;
  tail?: string;
}

/** The last `n` lines of `text` (n < 0: all of it). */
export function tailLines(text: string, n: number): string {
  if (n < 0) return text;
  if (n === 0) return '';
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
  return lines.slice(-n).join('\n') + (trailing === '' ? '\n' : '');
}

const FOLLOW_POLL_MS = 1000;

export async function runLogs(opts: LogsOptions, deps: CliDeps): Promise<void> {
  const tail = opts.tail === undefined ? -1 : Number(opts.tail);
  if (!Number.isInteger(tail)) throw new UsageError(`--tail must be an integer, got "${opts.tail}"`);
  const namespace = opts.namespace ?? 'default';
  const pod = podNameArg(opts.pod);
  const api = await deps.connect(opts.stateDir);
  let text = await api.logs(namespace, pod, opts.container);
  deps.stdout.write(tailLines(text, tail));
  if (!opts.follow) return;
  // the API serves whole logs, so following means polling and printing what was appended
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (;;) {
    await sleep(FOLLOW_POLL_MS);
    let next: string;
    try {
      next = await api.logs(namespace, pod, opts.container);
    } catch {
      return; // the pod went away: kubectl -f ends too
    }
    if (next.length > text.length && next.startsWith(text)) deps.stdout.write(next.slice(text.length));
    else if (next !== text && !next.startsWith(text)) deps.stdout.write(next); // log rotated on restart
    text = next;
  }
}

export function registerLogs(program: Command, deps: CliDeps): void {
  program
    .command('logs')
    .description("Print a container's log (container `sidecar` is the sidecar)")
    .argument('<pod>', 'POD or pod/NAME')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-c, --container <name>', 'container name, or sidecar')
    .option('-f, --follow', 'keep printing as the log grows')
    .option('--tail <lines>', 'only the last N lines')
    .action(async (pod: string, o: { container?: string; follow?: boolean; tail?: string }, cmd: Command) => {
      await runLogs({ stateDir: stateDirOf(cmd, deps), pod, namespace: namespaceOf(cmd), ...o }, deps);
    });
}
