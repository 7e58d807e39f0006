/** The process entry: bind options, gunicorn startup/access lines on stdout, clean exit on signals. */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { resolveBindAddress } from './bind-options.js';
import { request } from './client-for-tests.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const STAMP = String.raw`\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000\] \[\d+\] \[INFO\]`;

describe('resolveBindAddress', () => {
  it('defaults to 0.0.0.0:80', () => {
    assert.deepEqual(resolveBindAddress([], {}), { host: '0.0.0.0', port: 80 });
  });
  it('reads HOST and PORT', () => {
    assert.deepEqual(resolveBindAddress([], { HOST: '127.0.0.1', PORT: '8080' }), { host: '127.0.0.1', port: 8080 });
  });
  it('lets a gunicorn bind flag win over PORT', () => {
    const env = { PORT: '8080' };
    assert.deepEqual(resolveBindAddress(['-b', '0.0.0.0:14001', 'httpbin:app', '-k', 'gevent'], env), {
      host: '0.0.0.0',
      port: 14001,
    });
    assert.deepEqual(resolveBindAddress(['--bind=127.0.0.1:9000'], env), { host: '127.0.0.1', port: 9000 });
    assert.deepEqual(resolveBindAddress(['--bind', ':9001'], env), { host: '0.0.0.0', port: 9001 });
    assert.deepEqual(resolveBindAddress(['-b[::1]:9002'], env), { host: '::1', port: 9002 });
  });
});

describe('main', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`logs like gunicorn and exits 0 on ${signal}`, async () => {
      const child = spawn(process.execPath, [MAIN, '-b', '127.0.0.1:0'], {
        env: { ...process.env, PORT: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8');
      const listening = new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk;
          const match = /Listening at: http:\/\/127\.0\.0\.1:(\d+) \(\d+\)/.exec(stdout);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', () => reject(new Error(`exited early: ${stdout}`)));
      });
      try {
        const port = await listening;
        const res = await request(port, { path: '/', headers: { 'User-Agent': 'curl/7.85.0-DEV' } });
        assert.equal(res.status, 200);
        await new Promise((resolve) => setTimeout(resolve, 50)); // let the access line reach stdout

        const exited = once(child, 'exit');
        child.kill(signal);
        const [code] = (await exited) as [number | null];
        assert.equal(code, 0);

        const lines = stdout.trimEnd().split('\n');
        assert.match(lines[0] ?? '', new RegExp(`^${STAMP} Starting gunicorn 19\\.9\\.0$`));
        assert.match(lines[1] ?? '', new RegExp(`^${STAMP} Listening at: http://127\\.0\\.0\\.1:${port} \\(${child.pid}\\)$`));
        assert.ok(
          lines.some((line) =>
            new RegExp(String.raw`^127\.0\.0\.1 - - \[[^\]]+\] "GET / HTTP/1\.1" 200 ${res.bodyBytes.length} "-" "curl/7\.85\.0-DEV"$`).test(line),
          ),
          stdout,
        );
        assert.match(lines.at(-1) ?? '', /Shutting down: Master$/);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }
});
