/** `kubectl port-forward` (1.27: SPDY; ≥1.31: SPDY tunnelled in a WebSocket, or plain SPDY when that is refused) against acceptPortForward. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kubectlBinary, startTestApiServer, TEST_POD, type TestApiServer } from './test-server.js';

let server: TestApiServer;
let echo: Server;
before(async () => {
  server = await startTestApiServer();
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  server.podPorts.set(8080, (echo.address() as { port: number }).port);
});
after(async () => {
  await server.close();
  await new Promise((r) => echo.close(r));
});

/** Starts `kubectl port-forward` and resolves with the local port it reports; the child is killed by the caller. */
async function portForward(bin: string, remote: number): Promise<{ child: ChildProcess; local: number; stderr: () => string }> {
  const child = spawn(bin, ['--kubeconfig', server.kubeconfig, '--cache-dir', join(server.dir, 'cache'), 'port-forward', `pod/${TEST_POD}`, `:${remote}`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: server.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
  child.once('close', () => clearTimeout(kill));
  const local = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> \d+/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('close', (code) => reject(new Error(`kubectl port-forward exited (${code}): ${err}`)));
  });
  return { child, local, stderr: () => err };
}

async function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  const s = connect(port, '127.0.0.1');
  await once(s, 'connect');
  const chunks: Buffer[] = [];
  let n = 0;
  s.on('data', (c: Buffer) => {
    chunks.push(c);
    n += c.length;
    if (n >= payload.length) s.end();
  });
  s.write(payload);
  await once(s, 'close');
  return Buffer.concat(chunks);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'close');
}

const cases = [
  { version: '1.27', tunnel: true, expect: ['portforward.k8s.io'] },
  { version: '1.32', tunnel: true, expect: ['SPDY/3.1+portforward.k8s.io'] },
  { version: '1.33', tunnel: true, expect: ['SPDY/3.1+portforward.k8s.io'] },
  { version: '1.32', tunnel: false, expect: [400, 'portforward.k8s.io'] },
] as const;

for (const { version, tunnel, expect } of cases) {
  const bin = kubectlBinary(version);
  describe(`kubectl ${version} port-forward${tunnel ? '' : ', WebSocket tunnel refused'}`, { skip: bin ? false : `kubectl ${version} not installed` }, () => {
    before(() => {
      server.portForwardSettings.websocket = tunnel;
    });
    test('bytes reach the pod port and come back, on two connections', async () => {
      const before = server.forwards.length;
      const pf = await portForward(bin!, 8080);
      try {
        const a = Buffer.alloc(256 * 1024, 'a');
        assert.ok((await roundTrip(pf.local, a)).equals(a));
        assert.equal((await roundTrip(pf.local, Buffer.from('second\n'))).toString(), 'second\n');
        const seen = server.forwards.slice(before);
        assert.deepEqual(seen.map((f) => f.protocol ?? f.refused?.httpStatus), expect);
      } finally {
        await stop(pf.child);
      }
    });

    test('a port nothing listens on: kubectl reports the error', async () => {
      const pf = await portForward(bin!, 9999);
      try {
        const s = connect(pf.local, '127.0.0.1');
        s.on('error', () => {});
        await once(s, 'close');
        const deadline = Date.now() + 5000;
        while (!/error forwarding port 9999/.test(pf.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.match(pf.stderr(), /error forwarding port 9999: dial tcp 127\.0\.0\.1:9999: connect: connection refused/);
      } finally {
        await stop(pf.child);
      }
    });
  });
}
