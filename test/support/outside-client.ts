/**
 * Raw TCP and TLS clients for end-to-end tests, run inside a pod outside the mesh (no sidecar, no
 * interception) through `tessera exec POD -- node <repo>/dist/test/support/outside-client.js MODE …`:
 *   tcp HOST PORT [SEND]           connects, writes SEND + "\n" once connected, prints what arrives
 *   tls HOST PORT DIR [SERVERNAME] the same over TLS with DIR/{key,cert,ca}.pem as the client's
 *                                  key, chain and roots (the server's name is not checked), SNI when given
 * Output is what the server sent before it closed, or nothing when the connection was refused, reset
 * or the handshake failed; the connection is dropped after 5 s without traffic. Exit code 0 either way
 * (exit 2 on bad usage).
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

const [mode, host, port, arg, servername] = process.argv.slice(2);

function report(c: Socket, send?: string): void {
  c.setEncoding('utf8').on('data', (d: string) => process.stdout.write(d));
  c.on('error', () => undefined);
  c.setTimeout(5000, () => c.destroy());
  if (send !== undefined) c.write(`${send}\n`);
}

if (!host || !port || (mode !== 'tcp' && mode !== 'tls') || (mode === 'tls' && !arg)) {
  process.stderr.write('usage: outside-client tcp HOST PORT [SEND] | tls HOST PORT DIR [SERVERNAME]\n');
  process.exit(2);
}
if (mode === 'tcp') {
  const c = connect({ host, port: Number(port) });
  c.on('connect', () => report(c, arg));
  c.on('error', () => undefined);
} else {
  const file = (name: string) => readFileSync(join(arg!, name), 'utf8');
  const c = tlsConnect({
    host,
    port: Number(port),
    key: file('key.pem'),
    cert: file('cert.pem'),
    ca: file('ca.pem'),
    // the server proves a SPIFFE identity, not a host name; what is under test is the client's side
    checkServerIdentity: () => undefined,
    ...(servername ? { servername } : {}),
  });
  c.on('secureConnect', () => report(c));
  c.on('error', () => undefined);
}
