/**
 * A tiny TCP probe the sandbox tests run inside pods (compiled to dist): `serve PORT…` answers each
 * connection with one JSON line saying where it landed and what `originalDestination` reports;
 * `dial HOST PORT` prints what it got back (or the error code).
 */
import { createConnection, createServer } from 'node:net';
import { originalDestination } from './original-dst.js';

const [mode, ...rest] = process.argv.slice(2);

if (mode === 'serve') {
  let pending = rest.length;
  for (const p of rest) {
    const server = createServer((sock) => {
      const report = {
        port: sock.localPort,
        local: sock.localAddress,
        remote: sock.remoteAddress,
        uid: process.getuid?.(),
        original: originalDestination(sock) ?? null,
      };
      sock.end(JSON.stringify(report) + '\n');
    });
    server.listen({ port: Number(p), host: '::' }, () => {
      if (--pending === 0) process.stdout.write('ready\n');
    });
  }
} else if (mode === 'dial') {
  const [host, port] = rest;
  const sock = createConnection({ host: host!, port: Number(port) });
  let data = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (data += d));
  sock.on('end', () => process.stdout.write(data));
  sock.on('error', (e: NodeJS.ErrnoException) => process.stdout.write(JSON.stringify({ error: e.code }) + '\n'));
  sock.setTimeout(3000, () => {
    process.stdout.write(JSON.stringify({ error: 'TIMEOUT' }) + '\n');
    sock.destroy();
  });
} else {
  process.stderr.write('usage: probe-main serve PORT… | dial HOST PORT\n');
  process.exit(2);
}
