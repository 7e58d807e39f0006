/**
 * The page's data: one GET /api/state for the first paint, then Server-Sent Events on /api/events.
 * The browser's EventSource retries on its own after a dropped stream, but gives up for good when
 * the server answers an error status (a restarted server, an expired session); then we open a new
 * one ourselves, backing off to at most 10 s, so the indicator goes back to "live" by itself.
 */
import { useEffect, useState } from 'preact/hooks';
import type { DashboardState, Decision } from '../model.js';

/** 'signed-out': the server answers 401 (a new run of `tessera dashboard` has a new token) */
export type Connection = 'connecting' | 'live' | 'disconnected' | 'signed-out';

export interface Live {
  state: DashboardState | undefined;
  /** refusals pushed one by one since the page loaded, newest first, de-duplicated by id */
  pushed: Decision[];
  connection: Connection;
}

const MAX_PUSHED = 500;

export function useLive(): Live {
  const [state, setState] = useState<DashboardState | undefined>(undefined);
  const [pushed, setPushed] = useState<Decision[]>([]);
  const [connection, setConnection] = useState<Connection>('connecting');

  useEffect(() => {
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 500;
    let stopped = false;

    void fetch('api/state', { credentials: 'same-origin' })
      .then(async (r) => {
        if (!r.ok) return;
        const first = (await r.json()) as DashboardState;
        // the stream may have delivered a newer state already
        setState((prev) => prev ?? first);
      })
      .catch(() => undefined);

    const open = (): void => {
      source = new EventSource('api/events');
      source.onopen = () => {
        delay = 500;
        setConnection('live');
      };
      source.addEventListener('state', (e) => {
        setConnection('live');
        setState(JSON.parse((e as MessageEvent<string>).data) as DashboardState);
      });
      source.addEventListener('decision', (e) => {
        const d = JSON.parse((e as MessageEvent<string>).data) as Decision;
        setPushed((prev) => (prev.some((p) => p.id === d.id) ? prev : [d, ...prev].slice(0, MAX_PUSHED)));
      });
      source.onerror = () => {
        setConnection('disconnected');
        if (source?.readyState === EventSource.CLOSED && !stopped) {
          source.close();
          // the stream does not say why it was refused; a plain request does
          void fetch('api/state', { method: 'HEAD', credentials: 'same-origin' })
            .then((r) => {
              if (r.status === 401 && !stopped) setConnection('signed-out');
            })
            .catch(() => undefined);
          retry = setTimeout(open, delay);
          delay = Math.min(delay * 2, 10_000);
        }
      };
    };
    open();
    return () => {
      stopped = true;
      source?.close();
      if (retry) clearTimeout(retry);
    };
  }, []);

  return { state, pushed, connection };
}
