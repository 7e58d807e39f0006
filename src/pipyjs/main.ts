/**
 * Process entry for `flomesh/pipy` pods: `pipy -e SCRIPT` or `pipy FILE`, run standalone on the
 * PipyJS runtime. listen(PORT) binds env HOST (the pod's app address). Logs and one access line
 * per request go to stdout, which the pod runtime captures as the container's log.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { runStandalone } from './standalone/run.js';

interface Args {
  source: string;
  file: string;
  baseDir: string;
}

/** Pipy's CLI: `-e`/`--eval` SCRIPT, or a script file; `--option=value` flags are accepted and ignored. */
export function parsePipyArgs(argv: readonly string[]): Args {
  let source: string | undefined;
  let path: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--eval') source = argv[++i] ?? '';
    else if (a.startsWith('--eval=')) source = a.slice(7);
    else if (a.startsWith('-')) continue;
    else path ??= a;
  }
  if (source !== undefined) return { source, file: 'eval.js', baseDir: process.cwd() };
  if (path === undefined) throw new Error('usage: pipy -e SCRIPT | pipy FILE');
  const full = resolve(path);
  return { source: readFileSync(full, 'utf8'), file: basename(full), baseDir: dirname(full) };
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parsePipyArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`pipy: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const bindHost = process.env['HOST'] || '0.0.0.0';
  const write = (line: string): void => void process.stdout.write(`${line}\n`);
  const tag = (level: string): string => `[${level.toUpperCase().slice(0, 3)}]`;
  try {
    const running = await runStandalone(args.source, {
      file: args.file,
      baseDir: args.baseDir,
      bindHost,
      log: (level, message, fields) => write(`${new Date().toISOString()} ${tag(level)} ${message}${fields?.['error'] && level === 'error' ? `\n${String(fields['error'])}` : ''}`),
      access: write,
    });
    for (const a of running.addresses) write(`${new Date().toISOString()} [INF] [listener] Listening on TCP port ${a.slice(a.lastIndexOf(':') + 1)} at ${a.slice(0, a.lastIndexOf(':'))}`);
    const stop = (): void => {
      void running.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (err) {
    process.stderr.write(`pipy: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) void main();
