/** The app as real curl sees it. */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { withServer } from './client-for-tests.js';

const run = promisify(execFile);

async function curl(...args: string[]): Promise<string> {
  const { stdout } = await run('curl', ['--silent', '--show-error', '--max-time', '5', ...args]);
  return stdout;
}

describe('curl', () => {
  it('curl -Is /get shows a gunicorn 200', async () => {
    await withServer(async (server) => {
      const out = await curl('-Is', `http://127.0.0.1:${server.address.port}/get`);
      const lines = out.split('\r\n');
      assert.equal(lines[0], 'HTTP/1.1 200 OK');
      assert.ok(lines.includes('server: gunicorn/19.9.0'), out);
      assert.ok(lines.includes('content-type: application/json'), out);
      assert.ok(lines.includes('access-control-allow-origin: *'), out);
      assert.ok(lines.includes('access-control-allow-credentials: true'), out);
      assert.ok(lines.some((line) => /^content-length: \d+$/.test(line)), out);
    });
  });

  it('curl uploads: -F multipart and a chunked --data-binary', async () => {
    await withServer(async (server) => {
      const base = `http://127.0.0.1:${server.address.port}`;
      const dir = await mkdtemp(join(tmpdir(), 'httpbin-curl-'));
      try {
        const upload = join(dir, 'x.txt');
        await writeFile(upload, 'uploaded text\n');
        const multipart = JSON.parse(await curl('-F', 'name=tessera', '-F', `file=@${upload}`, `${base}/post`)) as {
          form: unknown;
          files: unknown;
        };
        assert.deepEqual(multipart.form, { name: 'tessera' });
        assert.deepEqual(multipart.files, { file: 'uploaded text\n' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }

      const chunked = JSON.parse(
        await curl('-X', 'PUT', '-H', 'Transfer-Encoding: chunked', '-H', 'Content-Type: application/json',
          '--data-binary', '{"k":"v"}', `${base}/anything/chunked`),
      ) as { json: unknown; method: string };
      assert.deepEqual(chunked.json, { k: 'v' });
      assert.equal(chunked.method, 'PUT');
    });
  });

  it('curl sees the 302 Location and the teapot', async () => {
    await withServer(async (server) => {
      const base = `http://127.0.0.1:${server.address.port}`;
      const redirect = await curl('-i', `${base}/status/302`);
      assert.match(redirect, /^HTTP\/1\.1 302 FOUND\r\n/);
      assert.match(redirect, /\r\nlocation: \/redirect\/1\r\n/);
      const teapot = await curl('-i', `${base}/status/418`);
      assert.match(teapot, /^HTTP\/1\.1 418 I'M A TEAPOT\r\n/);
      assert.match(teapot, /-=\[ teapot \]=-/);
    });
  });
});
