/**
 * Startup and shutdown shared by the control-plane pod processes (bootstrap, injector): required
 * environment variables, JSON log lines on stdout, listening on the pod's fixed address (waiting
 * while the previous pod still holds it) and exiting on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import { listenWhenFree, splitHostPort } from './listen-retry.js';

export type LogLevel = 'info' | 'warn';
export type LogLine = (msg: string, fields?: Record<string, unknown>) => void;

export interface ServeOptions {
  /** `host:port` */
  listenAt: string;
  /** the mesh name, logged with the "listening" line */
  meshName: string;
  /**
   * On shutdown, after `server.close()`: `all` drops every connection at once, `idle` only the idle
   * ones and lets requests in flight finish (the 2 s exit timer still bounds them).
   */
  closeConnections: 'all' | 'idle';
  /** Called first on shutdown, right after listening is abandoned (stop watches, timers, …). */
  onStop?: () => void;
}

export interface PodProcess {
  /** The variable's value; a missing or empty one ends the process with exit code 2. */
  required(envName: string): string;
  /** One JSON line on stdout: `{ time, level, msg, ...fields }`. */
  log(level: LogLevel): LogLine;
  /** Listens on `listenAt` (exit 1 if that fails) and exits 0 once the server closed after SIGTERM/SIGINT. */
  serve(server: Server, opts: ServeOptions): void;
}

/** `name` is the process's name in its messages (`bootstrap`, `injector`). */
export function podProcess(name: string): PodProcess {
  const log = (level: LogLevel): LogLine => (msg, fields) => {
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  };

  const required = (envName: string): string => {
    const v = process.env[envName];
    if (!v) {
      process.stderr.write(`${name}: environment variable ${envName} is required\n`);
      process.exit(2);
    }
    return v;
  };

  const serve = (server: Server, { listenAt, meshName, closeConnections, onStop }: ServeOptions): void => {
    const stopping = new AbortController();
    const { host, port } = splitHostPort(listenAt);
    listenWhenFree(server, host, port, stopping.signal, () => log('warn')(`address in use; waiting for the previous ${name} to let go`, { address: listenAt }))
      .then(() => log('info')(`${name} listening`, { address: listenAt, mesh: meshName }))
      .catch((err: Error) => {
        if (stopping.signal.aborted) return;
        log('warn')('cannot listen', { address: listenAt, error: err.message });
        process.exit(1);
      });

    const shutdown = (): void => {
      stopping.abort();
      onStop?.();
      server.close(() => process.exit(0));
      if (closeConnections === 'all') server.closeAllConnections();
      else server.closeIdleConnections();
      setTimeout(() => process.exit(0), 2000).unref();
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  };

  return { required, log, serve };
}
