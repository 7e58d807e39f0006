/**
 * The mesh-side half of the control-plane relay (see mesh-relay.ts), run in the mesh's node
 * namespace by `runInMesh`: `LISTEN_HOST PORT SOCKET`… — each TCP listener pipes every connection
 * to the Unix socket the daemon serves in the state directory. Prints `ready PORT…` once all listen
 * (the ports bound, in argument order: port 0 takes a free one).
 */
import { connect, createServer, type Socket } from 'node:net';

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 3 !== 0) {
  process.stderr.write('usage: mesh-relay-main LISTEN_HOST PORT SOCKET…\n');
  process.exit(2);
}

function pipeBoth(a: Socket, b: Socket): void {
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

let pending = args.length / 3;
const bound: number[] = [];
for (let i = 0; i < args.length; i += 3) {
  const [host, port, socketPath] = [args[i]!, Number(args[i + 1]), args[i + 2]!];
  const server = createServer((client) => pipeBoth(client, connect(socketPath)));
  server.on('error', (e) => {
    process.stderr.write(`mesh-relay: ${host}:${port}: ${e.message}\n`);
    process.exit(1);
  });
  server.listen({ host, port }, () => {
    bound[i / 3] = (server.address() as { port: number }).port;
    if (--pending === 0) process.stdout.write(`ready ${bound.join(' ')}\n`);
  });
}
process.on('SIGTERM', () => process.exit(0));
