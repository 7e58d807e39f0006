/** The query parser and the error-channel documents, on their own. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAttachQuery, parseExecQuery, resultStatus, StreamingError } from './index.js';
import { decodeResultStatus } from './status.js';

const u = (q: string): URL => new URL(`https://x/api/v1/namespaces/d/pods/p/exec?${q}`);

test('parseExecQuery reads repeated commands and flags', () => {
  assert.deepEqual(parseExecQuery(u('command=sh&command=-c&command=echo+a&container=main&stdin=true&stdout=1&stderr=true')), {
    command: ['sh', '-c', 'echo a'],
    container: 'main',
    stdin: true,
    stdout: true,
    stderr: true,
    tty: false,
  });
});

test('tty drops stderr, as the kubelet does', () => {
  assert.deepEqual(parseAttachQuery(u('stdout=true&stderr=true&tty=true')), { stdin: false, stdout: true, stderr: false, tty: true });
});

test('refusals are 400 StreamingErrors', () => {
  const bad = (q: string, msg: RegExp): void =>
    assert.throws(() => parseExecQuery(u(q)), (e: unknown) => e instanceof StreamingError && e.httpStatus === 400 && msg.test(e.message));
  bad('stdout=true', /at least one command/);
  bad('command=ls', /at least 1 of stdin, stdout, stderr/);
  bad('command=ls&stdout=yes', /invalid value for query parameter stdout/);
});

test('error-channel Status documents round-trip as client-go reads them', () => {
  assert.deepEqual(resultStatus({ exitCode: 0 }), { metadata: {}, status: 'Success' });
  const s = resultStatus({ exitCode: 3 });
  assert.equal(s.reason, 'NonZeroExitCode');
  assert.deepEqual(s.details, { causes: [{ reason: 'ExitCode', message: '3' }] });
  assert.deepEqual(decodeResultStatus(JSON.stringify(s)), { exitCode: 3 });
  assert.deepEqual(decodeResultStatus(JSON.stringify(resultStatus({ exitCode: 256 + 7 }))), { exitCode: 7 });
  assert.deepEqual(decodeResultStatus(JSON.stringify(resultStatus({ error: 'boom' }))), { error: 'boom' });
  assert.deepEqual(decodeResultStatus(''), { exitCode: 0 });
});
