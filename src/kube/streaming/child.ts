/** Wires a spawned process to an exec session: stdio both ways, stdin's end, the exit code. */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { endAndFlush, type ExecSession } from './session.js';
import type { ExecResult } from './status.js';

function signalExit(signal: NodeJS.Signals): number {
  // As a shell (and containerd's exec) reports it: 128 + the signal number.
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Pipes `session` and `child` together (with backpressure: `pipe` pauses the faster side), finishes
 * the session with the child's exit code once its output has been sent, and kills the child with
 * SIGTERM if the client goes away first. Resolves with the result sent. No pseudo-terminal is
 * made: for a tty session stderr is merged into stdout and resizes are ignored.
 */
export function runExecChild(session: ExecSession, child: ChildProcess): Promise<ExecResult> {
  if (child.stdin) {
    child.stdin.on('error', () => {}); // EPIPE when the command exits without reading all of its input
    if (session.stdin) session.stdin.pipe(child.stdin);
    else child.stdin.end();
  }
  const outputs: Promise<void>[] = [];
  const wire = (from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream | undefined): void => {
    if (!from) return;
    if (!to) {
      from.resume();
      return;
    }
    from.pipe(to, { end: false });
    outputs.push(new Promise((resolve) => from.once('end', resolve).once('close', resolve)));
  };
  wire(child.stdout, session.stdout);
  wire(child.stderr, session.tty ? session.stdout : session.stderr);

  let exited = false;
  void session.closed.then(() => {
    if (!exited && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });

  return new Promise<ExecResult>((resolve) => {
    const done = async (result: ExecResult): Promise<void> => {
      if (exited) return;
      exited = true;
      await Promise.all(outputs);
      await Promise.all([endAndFlush(session.stdout), endAndFlush(session.stderr)]);
      await session.finish(result);
      resolve(result);
    };
    child.once('error', (err) => void done({ error: `failed to run the command: ${err.message}` }));
    child.once('close', (code, signal) => void done(signal ? { exitCode: signalExit(signal) } : { exitCode: code ?? 0 }));
  });
}
