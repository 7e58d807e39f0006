/**
 * Running a script standalone (what `pipy -e SCRIPT` does): load it as its own codebase, bind it,
 * and open an HTTP server for each listen().
 */
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Codebase } from '../codebase.js';
import type { LogLevel, PipyHost } from '../runtime-types.js';
import { compileScript } from '../script.js';
import { serveListen } from './server.js';
import { NodeHttpTransport } from './transport.js';

export interface StandaloneOptions {
  /** how errors name the script, e.g. `main.js` */
  file: string;
  /** where listen(port) binds (the pod's app address); default 0.0.0.0 */
  bindHost?: string;
  log?: (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;
  access?: (line: string) => void;
  /** directory pipy.solve(file) reads from */
  baseDir?: string;
  /** what scripts read as `os.env` (default: this process's environment) */
  env?: Readonly<Record<string, string>>;
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

export interface Standalone {
  servers: Server[];
  /** bound addresses, `host:port` */
  addresses: string[];
  close(): Promise<void>;
}

export async function runStandalone(source: string, opts: StandaloneOptions): Promise<Standalone> {
  const transport = new NodeHttpTransport();
  const log = opts.log ?? ((level, message) => process.stdout.write(`[${level.toUpperCase().slice(0, 3)}] ${message}\n`));
  const baseDir = opts.baseDir ?? process.cwd();
  const codebase: Codebase = new Codebase({
    log,
    transport,
    idleTimeoutMs: 60_000,
    // a standalone pipy is the workload itself: its environment is its own container's
    env: opts.env ?? stringEnv(process.env),
    solve: (file) => {
      const path = resolve(baseDir, file);
      const c = compileScript(file, readFileSync(path, 'utf8'));
      // a solved file is one expression, evaluated once (the codebase caches it by name)
      return codebase.evaluate(`/${file}`, c);
    },
  } satisfies PipyHost);
  const m = codebase.load(`/${opts.file}`, compileScript(opts.file, source));
  codebase.bind();
  const servers: Server[] = [];
  const addresses: string[] = [];
  try {
    for (const spec of m.config?.listens ?? []) {
      const s = await serveListen(codebase, m, spec, { bindHost: opts.bindHost ?? '0.0.0.0', access: opts.access ?? ((l) => process.stdout.write(`${l}\n`)) });
      servers.push(s);
      const a = s.address();
      addresses.push(typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a));
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return {
    servers,
    addresses,
    close: async () => {
      transport.close();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}
