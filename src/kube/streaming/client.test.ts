/** execClient (the CLI's side) against acceptExec, over verified TLS. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { execClient, ExecClientError, type ExecClientOptions } from './index.js';
import { startTestApiServer, TEST_POD, type TestApiServer } from './test-server.js';

class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

let server: TestApiServer;
before(async () => {
  server = await startTestApiServer();
});
after(async () => {
  await server.close();
});

function execUrl(command: string[], flags: Record<string, string> = { stdout: 'true', stderr: 'true' }): string {
  const u = new URL(`${server.url}/api/v1/namespaces/default/pods/${TEST_POD}/exec`);
  for (const c of command) u.searchParams.append('command', c);
  for (const [k, v] of Object.entries(flags)) u.searchParams.set(k, v);
  return u.toString();
}

async function run(command: string[], extra: Partial<ExecClientOptions> & { flags?: Record<string, string> } = {}) {
  const stdout = new Sink();
  const stderr = new Sink();
  const { flags, ...rest } = extra;
  const code = await execClient({ url: execUrl(command, flags), ca: server.ca, token: server.token, stdout, stderr, ...rest });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('execClient', () => {
  test('stdout and exit 0 over v5', async () => {
    const r = await run(['echo', 'hi']);
    assert.deepEqual(r, { code: 0, stdout: 'hi\n', stderr: '' });
    assert.equal(server.execs.at(-1)?.session?.protocol, 'v5.channel.k8s.io');
  });

  test('stderr and the exit code', async () => {
    const r = await run(['sh', '-c', 'echo out; echo err >&2; exit 42']);
    assert.deepEqual(r, { code: 42, stdout: 'out\n', stderr: 'err\n' });
  });

  test('stdin and its end (v5 CLOSE signal)', async () => {
    const r = await run(['sh', '-c', 'cat; echo done'], { stdin: Readable.from([Buffer.from('a\n'), Buffer.from('b\n')]), flags: { stdin: 'true', stdout: 'true', stderr: 'true' } });
    assert.deepEqual(r, { code: 0, stdout: 'a\nb\ndone\n', stderr: '' });
  });

  test('v4 when the server offers nothing newer', async () => {
    server.settings.websocketProtocols = ['v4.channel.k8s.io'];
    try {
      const r = await run(['sh', '-c', 'echo four; exit 4']);
      assert.deepEqual(r, { code: 4, stdout: 'four\n', stderr: '' });
      assert.equal(server.execs.at(-1)?.session?.protocol, 'v4.channel.k8s.io');
    } finally {
      delete server.settings.websocketProtocols;
    }
  });

  test('base64 framing carries arbitrary bytes', async () => {
    const stdout = new Sink();
    const code = await execClient({ url: execUrl(['sh', '-c', 'printf "\\001\\377\\000"; exit 5']), ca: server.ca, token: server.token, stdout, stderr: new Sink(), protocols: ['v4.base64.channel.k8s.io'] });
    assert.equal(code, 5);
    assert.deepEqual([...Buffer.concat(stdout.chunks)], [1, 255, 0]);
    assert.equal(server.execs.at(-1)?.session?.protocol, 'v4.base64.channel.k8s.io');
  });

  test('1 MiB out, with a slow consumer (backpressure)', async () => {
    let total = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        total += chunk.length;
        setImmediate(cb);
      },
    });
    const code = await execClient({ url: execUrl(['head', '-c', String(1024 * 1024), '/dev/zero']), ca: server.ca, token: server.token, stdout: slow, stderr: new Sink() });
    assert.equal(code, 0);
    assert.equal(total, 1024 * 1024);
  });

  test('tty: one output stream, and the terminal size reaches the session', async () => {
    const out = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 40 });
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const code = await execClient({
      url: execUrl(['sh', '-c', 'sleep 0.2; echo out; echo err >&2'], { stdout: 'true', tty: 'true' }),
      ca: server.ca,
      token: server.token,
      stdout: out,
      stderr: new Sink(),
      tty: true,
    });
    assert.equal(code, 0);
    assert.equal(Buffer.concat(chunks).toString().split('\n').sort().join(','), ',err,out');
    assert.deepEqual(server.execs.at(-1)?.resizes, [{ width: 120, height: 40 }]);
  });

  test('a refused upgrade is a typed error with the Status message', async () => {
    await assert.rejects(
      execClient({ url: execUrl([]), ca: server.ca, token: server.token, stdout: new Sink(), stderr: new Sink() }),
      (e: unknown) => e instanceof ExecClientError && e.httpStatus === 400 && e.message === 'you must specify at least one command for the container',
    );
    await assert.rejects(
      execClient({ url: execUrl(['true']), ca: server.ca, token: 'wrong', stdout: new Sink(), stderr: new Sink() }),
      (e: unknown) => e instanceof ExecClientError && e.httpStatus === 401,
    );
  });

  test('a server certificate not signed by `ca` is refused', async () => {
    const dir = server.dir;
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'other.key'), '-out', join(dir, 'other.crt'), '-days', '1', '-subj', '/CN=other'], { timeout: 20_000 });
    const other = await readFile(join(dir, 'other.crt'));
    await assert.rejects(
      execClient({ url: execUrl(['true']), ca: other, token: server.token, stdout: new Sink(), stderr: new Sink() }),
      (e: unknown) => e instanceof ExecClientError && /self-signed|unable to verify|certificate/i.test(e.message),
    );
  });
});
