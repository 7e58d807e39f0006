/**
 * Listen on a fixed address, waiting while it is taken. Control-plane pods own fixed addresses; during
 * a rollout the replacement starts while the old pod still holds the port (Node 20 has no
 * SO_REUSEPORT), so it waits for the handover instead of crashing into the restart backoff.
 */
import type { Server } from 'node:net';

const RETRY_MS = 100;

/** Resolves once listening; gives up only when `signal` aborts. Other listen errors reject. */
export function listenWhenFree(server: Server, host: string, port: number, signal?: AbortSignal, onWait?: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let warned = false;
    const attempt = (): void => {
      if (signal?.aborted) return reject(new Error('stopped before listening'));
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        if (err.code !== 'EADDRINUSE') return reject(err);
        if (!warned) onWait?.();
        warned = true;
        setTimeout(attempt, RETRY_MS);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ host, port, exclusive: true });
    };
    attempt();
  });
}

/** `host:port` → its parts (the last colon splits, so the host may not be IPv6 here). */
export function splitHostPort(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon), port: Number(listen.slice(colon + 1)) };
}

/** Listens once; rejects with the listen error (no waiting). */
export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
