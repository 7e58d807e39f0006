/**
 * Small apps and clients for the seed 003 SMI e2e test, run as `node dist/test/support/smi-app.js MODE …`
 * (apps through `local.tessera.dev/command`, clients through `tessera exec`):
 *   http                      answers every request on HOST:PORT with 200 "POD METHOD PATH"
 *   l4 PORT...                per port: TCP says "tcp PORT POD" and closes; UDP answers "udp PORT POD MSG"
 *   udp-send FROM TO PORT MSG  binds FROM, sends MSG to TO:PORT, prints the reply (exit 3 without one in 1.5 s)
 *   tcp-read HOST PORT        connects, prints what arrives until the server closes (exit 4 on error)
 */
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';

const [mode, ...args] = process.argv.slice(2);
const host = process.env['HOST'] ?? '127.0.0.1';
const pod = process.env['POD_NAME'] ?? 'app';

switch (mode) {
  case 'http': {
    const port = Number(process.env['PORT'] ?? 8080);
    createHttpServer((req, res) => {
      const body = `${pod} ${req.method} ${req.url}\n`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);
    }).listen(port, host);
    break;
  }
  case 'l4':
    for (const port of args.map(Number)) {
      // a peer that resets first must not crash the app (an unhandled 'error' would)
      createServer((s) => s.on('error', () => undefined).end(`tcp ${port} ${pod}\n`)).listen(port, host);
      const udp = createSocket('udp4');
      udp.on('error', (e) => process.stderr.write(`udp ${port}: ${e.message}\n`));
      udp.on('message', (msg, r) => udp.send(`udp ${port} ${pod} ${msg.toString()}`, r.port, r.address));
      udp.bind(port, host);
    }
    break;
  case 'udp-send': {
    const [from, to, port, msg] = args as [string, string, string, string];
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      process.stdout.write('no reply\n');
      process.exit(3);
    }, 1500);
    s.on('message', (reply) => {
      clearTimeout(timer);
      process.stdout.write(`${reply.toString()}\n`);
      s.close();
    });
    s.bind({ address: from, port: 0 }, () => s.send(msg, Number(port), to));
    break;
  }
  case 'tcp-read': {
    const [h, port] = args as [string, string];
    const c = connect({ host: h, port: Number(port) });
    c.setEncoding('utf8').on('data', (d: string) => process.stdout.write(d));
    c.on('error', (e) => {
      process.stdout.write(`error ${e.message}\n`);
      process.exit(4);
    });
    c.setTimeout(5000, () => c.destroy(new Error('timeout')));
    break;
  }
  default:
    process.stderr.write(`smi-app: unknown mode ${mode}\n`);
    process.exit(2);
}
