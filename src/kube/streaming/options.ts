/**
 * The query of `pods/exec` and `pods/attach` (PodExecOptions / PodAttachOptions), validated the
 * way the API server and kubelet do before any upgrade, so a bad request is a 400 and not a
 * half-open stream.
 */
import { StreamingError } from './errors.js';

export interface AttachOptions {
  container?: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface ExecOptions extends AttachOptions {
  command: string[];
}

/** Go's strconv.ParseBool, which is what the API server's query decoder accepts. */
function parseBool(url: URL, name: string): boolean {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new StreamingError('BadRequest', `invalid value for query parameter ${name}: ${JSON.stringify(v)}`);
}

export function parseAttachQuery(url: URL): AttachOptions {
  const opts: AttachOptions = {
    stdin: parseBool(url, 'stdin'),
    stdout: parseBool(url, 'stdout'),
    stderr: parseBool(url, 'stderr'),
    tty: parseBool(url, 'tty'),
  };
  const container = url.searchParams.get('container');
  if (container) opts.container = container;
  // A terminal has one output, so the kubelet drops stderr rather than failing; kubectl never asks for both anyway.
  if (opts.tty) opts.stderr = false;
  if (!opts.stdin && !opts.stdout && !opts.stderr) {
    throw new StreamingError('BadRequest', 'you must specify at least 1 of stdin, stdout, stderr');
  }
  return opts;
}

export function parseExecQuery(url: URL): ExecOptions {
  const command = url.searchParams.getAll('command');
  if (command.length === 0 || command[0] === '') {
    throw new StreamingError('BadRequest', 'you must specify at least one command for the container');
  }
  return { command, ...parseAttachQuery(url) };
}
