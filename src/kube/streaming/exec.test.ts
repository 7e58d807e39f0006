/** `kubectl exec` — real binaries, SPDY (1.27) and WebSocket v5 (1.32, 1.33) — against acceptExec + runExecChild. */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { kubectl, kubectlBinary, startTestApiServer, TEST_POD, type TestApiServer } from './test-server.js';

const MiB = 1024 * 1024;
const LINE = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
const big = (): string => LINE.repeat(Math.ceil(MiB / LINE.length)).slice(0, MiB);

const versions = [
  { version: '1.27', transport: 'spdy', protocol: 'v4.channel.k8s.io' },
  { version: '1.32', transport: 'websocket', protocol: 'v5.channel.k8s.io' },
  { version: '1.33', transport: 'websocket', protocol: 'v5.channel.k8s.io' },
] as const;

let server: TestApiServer;
before(async () => {
  server = await startTestApiServer();
});
after(async () => {
  await server.close();
});

for (const { version, transport, protocol } of versions) {
  const bin = kubectlBinary(version);
  describe(`kubectl ${version} exec (${transport})`, { skip: bin ? false : `kubectl ${version} not installed` }, () => {
    const exec = (args: string[], input?: string): ReturnType<typeof kubectl> => kubectl(bin!, server, ['exec', ...args], input);

    test('stdout of a command, exit 0', async () => {
      const r = await exec([TEST_POD, '--', 'echo', 'hi']);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout.toString(), 'hi\n');
      assert.equal(r.code, 0);
      const last = server.execs.at(-1)!;
      assert.equal(last.session?.transport, transport);
      assert.equal(last.session?.protocol, protocol);
      assert.deepEqual(last.result, { exitCode: 0 });
    });

    test('stderr and a non-zero exit code', async () => {
      const r = await exec([TEST_POD, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.equal(r.stdout.toString(), 'out\n');
      assert.match(r.stderr, /^err\n/);
      assert.match(r.stderr, /command terminated with exit code 3/);
      assert.equal(r.code, 3);
    });

    test('stdin reaches the command and its end ends it', async () => {
      const r = await exec(['-i', TEST_POD, '--', 'cat'], 'data\n');
      assert.equal(r.stderr, '');
      assert.equal(r.stdout.toString(), 'data\n');
      assert.equal(r.code, 0);
    });

    test('1 MiB of output arrives intact', async () => {
      const r = await exec([TEST_POD, '--', 'sh', '-c', `yes ${LINE.trim()} | head -c ${MiB}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, MiB);
      assert.ok(r.stdout.toString() === big(), 'output differs from what the command wrote');
    });

    test('1 MiB through stdin and back', async () => {
      const r = await exec(['-i', TEST_POD, '--', 'cat'], big());
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, MiB);
      assert.ok(r.stdout.toString() === big(), 'echoed input differs');
    });

    test('a command that cannot start is reported as an error', async () => {
      const r = await exec([TEST_POD, '--', '/nonexistent/tessera-no-such-binary']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /failed to run the command: spawn \/nonexistent\/tessera-no-such-binary ENOENT/);
    });

    test('no command: kubectl refuses before any upgrade', async () => {
      const before = server.execs.length;
      const r = await exec([TEST_POD]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /you must specify at least one command for the container/);
      assert.equal(server.execs.length, before);
    });
  });
}

describe('WebSocket refused: kubectl ≥1.30 falls back to SPDY', { skip: kubectlBinary('1.32') ? false : 'kubectl 1.32 not installed' }, () => {
  test('the same exec over SPDY v4', async () => {
    server.settings.websocket = false;
    try {
      const before = server.execs.length;
      const r = await kubectl(kubectlBinary('1.32')!, server, ['exec', '-i', TEST_POD, '--', 'sh', '-c', 'cat; exit 7'], 'via spdy\n');
      assert.equal(r.stdout.toString(), 'via spdy\n');
      assert.match(r.stderr, /command terminated with exit code 7/);
      assert.equal(r.code, 7);
      const attempts = server.execs.slice(before);
      assert.deepEqual(attempts.map((e) => e.method), ['GET', 'POST']);
      assert.equal(attempts[0]!.refused?.httpStatus, 400);
      assert.equal(attempts[1]!.session?.protocol, 'v4.channel.k8s.io');
    } finally {
      delete server.settings.websocket;
    }
  });
});

describe('refusals before the upgrade', () => {
  const upgrade = (path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(`${server.url}${path}`, {
        method: 'POST',
        ca: server.ca,
        headers: { Authorization: `Bearer ${server.token}`, Connection: 'Upgrade', Upgrade: 'SPDY/3.1', ...headers },
        timeout: 10_000,
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, body: '' });
      });
      req.on('error', reject);
      req.end();
    });
  const exec = `/api/v1/namespaces/default/pods/${TEST_POD}/exec`;

  test('no command: 400 with a Status body', async () => {
    const r = await upgrade(`${exec}?stdout=true`, { 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    assert.equal(r.status, 400);
    const s = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(s['kind'], 'Status');
    assert.equal(s['reason'], 'BadRequest');
    assert.equal(s['code'], 400);
    assert.equal(s['message'], 'you must specify at least one command for the container');
  });

  test('no stream at all: 400', async () => {
    const r = await upgrade(`${exec}?command=true`, { 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    assert.equal(r.status, 400);
    assert.match(r.body, /you must specify at least 1 of stdin, stdout, stderr/);
  });

  test('no common SPDY protocol version: 403', async () => {
    const r = await upgrade(`${exec}?command=true&stdout=true`, { 'X-Stream-Protocol-Version': 'channel.k8s.io' });
    assert.equal(r.status, 403);
    assert.match(r.body, /unable to negotiate protocol: client supports \[channel.k8s.io\]/);
  });
});
