/** Runs the system tools (ip, nsenter, unshare, iptables-restore) and turns failures into MeshErrors. */
import { spawn } from 'node:child_process';
import { MeshError } from '../../lib/errors.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs argv to completion; a non-zero exit fails with the command and its stderr in the message. */
export function run(argv: readonly string[], opts: { input?: string; what?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) =>
      reject(new MeshError('MESH_ERR_INTERNAL', `${opts.what ?? argv[0]}: cannot run ${argv[0]}: ${e.message}`, { cause: e })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const why = signal ? `killed by ${signal}` : `exit ${code}`;
      reject(
        new MeshError('MESH_ERR_INTERNAL', `${opts.what ?? argv.join(' ')}: ${why}: ${stderr.trim() || stdout.trim() || '(no output)'}`),
      );
    });
    // A command that fails before reading its input closes the pipe: its exit status tells why.
    child.stdin?.on('error', () => undefined).end(opts.input);
  });
}

/** True when argv exits 0 (for capability probes). */
export async function succeeds(argv: readonly string[]): Promise<boolean> {
  try {
    await run(argv);
    return true;
  } catch {
    return false;
  }
}
