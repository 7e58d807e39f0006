#!/usr/bin/env node
/** The `tessera` executable: wires the real mesh, manifest loader and terminal into the CLI. */
import { readFileSync } from 'node:fs';
import type { CliDeps } from './deps.js';
import { runCli } from './index.js';

function packageVersion(): string {
  try {
    // dist/src/cli/main.js (and dist-*/src/cli) → the package root three levels up
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// Each part is loaded when a command first uses it: a command pays at start only for what it runs
// (the daemon, the manifest loader and the quickstart are most of the CLI's code).
const deps: CliDeps = {
  connect: async (stateDir) => (await import('../local/client/connect.js')).connectMesh(stateDir),
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin,
  loadManifests: async (paths, read) => (await import('../manifest/index.js')).loadManifests(paths, read),
  lifecycle: {
    up: async (opts) => (await import('../local/daemon/up.js')).up(opts),
    down: async (stateDir) => (await import('../local/daemon/down.js')).down(stateDir),
    runDaemon: async (opts) => (await import('../local/daemon/run-daemon.js')).runDaemon(opts),
    runQuickstart: async (opts) => (await import('../quickstart/index.js')).runQuickstart(opts),
  },
  env: process.env,
  cwd: process.cwd(),
  nowMs: () => Date.now(),
  version: packageVersion(),
  inheritStdio: true,
};

// `tessera get ... | head -1` closes our stdout early; like kubectl, just stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

// Long-running commands (foreground up, __daemon, the quickstart) settle only once they have stopped
// everything, so when runCli returns the command is over. Idle client sockets must not delay the
// exit: flush what we wrote, then leave.
const code = await runCli(process.argv.slice(2), deps);
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
