/** Answers an upgrade request with an HTTP error and a Status body, on the raw socket an `'upgrade'` handler gets. */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { StreamingError } from './errors.js';
import { httpErrorStatus } from './status.js';

export function refuseUpgrade(socket: Duplex, err: StreamingError, extraHeaders: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(httpErrorStatus(err));
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...extraHeaders,
  };
  const head = [`HTTP/1.1 ${err.httpStatus} ${STATUS_CODES[err.httpStatus] ?? 'Error'}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.on('error', () => {});
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
