/** Raw TCP from end-to-end tests: what a connection delivers before it closes, and CONNECT through a pod's sidecar. */
import { connect, type Socket } from 'node:net';
import { localIPFor } from '../../src/local/layout.js';

/**
 * What `c` delivered before it closed ('' when refused or reset); `send` is written once it is
 * connected, and `c` is destroyed after `idleMs` without traffic.
 */
export function received(c: Socket, idleMs: number, send?: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    c.setEncoding('utf8').on('data', (d: string) => (got += d));
    if (send !== undefined) c.on('connect', () => c.write(send));
    c.on('error', () => undefined);
    c.on('close', () => resolve(got));
    c.setTimeout(idleMs, () => c.destroy());
  });
}

/** CONNECT through a pod's sidecar; resolves with what the tunnel delivered before it closed. */
export function tunnel(podIP: string, authority: string): Promise<string> {
  return received(connect({ host: localIPFor(podIP), port: 15001 }), 3000, `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n\r\n`);
}
