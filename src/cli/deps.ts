/** What every command needs from the outside world, injected so tests can run against a fake mesh. */
import type { ManifestDocument, MeshApi } from '../local/api-contract.js';
import type { UpOptions } from '../local/lifecycle-contract.js';

export interface TextSink {
  write(chunk: string): unknown;
}

export interface QuickstartOptions {
  stateDir: string;
  meshName: string;
  dir: string;
}

export interface DaemonOptions {
  logRotation?: { maxSize: number; maxFiles: number };
  stateDir: string;
  meshName: string;
  workdir: string;
  log: (line: string) => void;
}

/** Local mesh lifecycle; main.ts wires src/local and src/quickstart. */
export interface Lifecycle {
  up(opts: UpOptions): Promise<unknown>;
  down(stateDir: string): Promise<unknown>;
  runDaemon(opts: DaemonOptions): Promise<unknown>;
  runQuickstart(opts: QuickstartOptions): Promise<unknown>;
}

export interface CliDeps {
  connect: (stateDir: string) => Promise<MeshApi>;
  stdout: TextSink;
  stderr: TextSink;
  readStdin: () => Promise<string>;
  loadManifests: (paths: string[], readStdin: () => Promise<string>) => Promise<ManifestDocument[]>;
  lifecycle: Lifecycle;
  /** the environment `exec` starts from and `TESSERA_HOME` is read from */
  env: Record<string, string | undefined>;
  cwd: string;
  nowMs: () => number;
  version: string;
  /**
   * true in the real CLI: `exec` hands its terminal to the child. Tests pass false so the child's
   * output is piped into `stdout`/`stderr`.
   */
  inheritStdio: boolean;
  /** pause used by polling loops (`logs -f`); injectable so tests need not wait */
  sleep?: (ms: number) => Promise<void>;
}

/** Ends the command with a given exit status without printing anything more (e.g. exec's child status). */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}
