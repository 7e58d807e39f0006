/** Runs the CLI in-process against a FakeMesh and captures what it printed and its exit status. */
import type { ManifestDocument } from '../../local/api-contract.js';
import type { CliDeps, Lifecycle } from '../deps.js';
import { runCli } from '../index.js';
import { FakeMesh } from './fake-mesh.js';
import { parseAllDocuments } from 'yaml';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** the state directories `connect` was called with */
  connectedTo: string[];
}

/** 2024-01-01T00:05:00Z: five minutes after the fixtures' creationTimestamp. */
export const TEST_NOW = Date.parse('2024-01-01T00:05:00Z');

/** A minimal loader for tests: `-` is stdin, anything else is looked up in `files`. */
export function fakeLoader(files: Record<string, string> = {}) {
  return async (paths: string[], readStdin: () => Promise<string>): Promise<ManifestDocument[]> => {
    const docs: ManifestDocument[] = [];
    for (const p of paths) {
      const text = p === '-' ? await readStdin() : files[p];
      if (text === undefined) throw new Error(`the path "${p}" does not exist`);
      parseAllDocuments(text).forEach((d, i) => {
        const object = d.toJS() as Record<string, unknown> | null;
        if (object) docs.push({ source: p, index: i + 1, line: 1, object });
      });
    }
    return docs;
  };
}

export function noLifecycle(): Lifecycle & { calls: { method: string; opts: unknown }[] } {
  const calls: { method: string; opts: unknown }[] = [];
  return {
    calls,
    up: async (opts) => void calls.push({ method: 'up', opts: { ...opts, log: typeof opts.log } }),
    down: async (stateDir) => void calls.push({ method: 'down', opts: stateDir }),
    runDaemon: async (opts) => void calls.push({ method: 'runDaemon', opts: { ...opts, log: typeof opts.log } }),
    runQuickstart: async (opts) => void calls.push({ method: 'runQuickstart', opts }),
  };
}

export async function runTessera(argv: string[], mesh: FakeMesh = new FakeMesh(), overrides: Partial<CliDeps> = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const connectedTo: string[] = [];
  const deps: CliDeps = {
    connect: async (dir) => {
      connectedTo.push(dir);
      return mesh;
    },
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    readStdin: async () => '',
    loadManifests: fakeLoader(),
    lifecycle: noLifecycle(),
    env: {},
    cwd: '/work/here',
    nowMs: () => TEST_NOW,
    version: '0.1.0',
    inheritStdio: false,
    sleep: async () => undefined,
    ...overrides,
  };
  const code = await runCli(argv, deps);
  return { code, stdout, stderr, connectedTo };
}
