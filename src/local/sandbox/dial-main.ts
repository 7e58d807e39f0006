/**
 * One TCP connection from inside a pod's network namespace, for the host side (the API server's
 * pods/proxy and port-forward): `dial-main HOST PORT`, started by `dialInPod` under nsenter.
 * stdin/stdout carry the connection's bytes; stderr says `connected` once it is open, or why not
 * (exit 1).
 */
import { connect } from 'node:net';

const [host, port] = [process.argv[2], Number(process.argv[3])];
if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: dial-main HOST PORT\n');
  process.exit(2);
}
const socket = connect({ host, port, noDelay: true });
socket.once('connect', () => {
  process.stderr.write('connected\n');
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
});
socket.on('error', (e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
socket.on('close', () => process.stdout.end(() => process.exit(0)));
process.stdout.on('error', () => process.exit(0));
