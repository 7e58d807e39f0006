/** One entry for an exec/attach upgrade: WebSocket when the client asks for it, SPDY/3.1 otherwise. */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { StreamingError } from './errors.js';
import type { AttachOptions } from './options.js';
import { WS_EXEC_PROTOCOLS, upgradeKind } from './protocols.js';
import { refuseUpgrade } from './refuse.js';
import type { ExecSession } from './session.js';
import { acceptSpdyExec, type AcceptSettings } from './spdy.js';
import { acceptWebSocketExec } from './websocket.js';

export interface AcceptExecSettings extends AcceptSettings {
  /** Set false to refuse WebSocket upgrades (kubectl ≥1.30 then falls back to SPDY). */
  websocket?: boolean;
  /** Set false to refuse SPDY upgrades. */
  spdy?: boolean;
  /** WebSocket subprotocols to offer, best first (default v5, v4, v4.base64). */
  websocketProtocols?: readonly string[];
}

/**
 * Completes the upgrade of an exec (or attach) request and resolves once the client's streams are
 * in place. A refusal has already been answered on `socket` when the promise rejects with a
 * `StreamingError`.
 */
export async function acceptExec(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: AttachOptions,
  settings: AcceptExecSettings = {},
): Promise<ExecSession> {
  const kind = upgradeKind(req);
  if (kind === 'websocket' && settings.websocket !== false) {
    return acceptWebSocketExec(req, socket, head, opts, settings.websocketProtocols ?? WS_EXEC_PROTOCOLS, settings);
  }
  if (kind === 'spdy' && settings.spdy !== false) return acceptSpdyExec(req, socket, head, opts, settings);
  const err = new StreamingError(
    'BadRequest',
    kind ? `${kind === 'spdy' ? 'SPDY' : 'WebSocket'} upgrades are not accepted here` : 'upgrade request required (SPDY/3.1 or websocket)',
  );
  refuseUpgrade(socket, err);
  throw err;
}

/** Attach speaks exactly the exec protocol; only the query differs (no command). */
export const acceptAttach = acceptExec;
