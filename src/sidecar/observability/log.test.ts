import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SidecarLog } from './log.js';

async function linesOf(file: string, count: number): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    if (lines.length >= count) return lines;
    await sleep(10);
  }
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** A log writing to a fresh file, removed when the test ends. */
function logToFile(t: { after(fn: () => void): void }): { file: string; log: SidecarLog } {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-log-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  t.after(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  return { file, log: new SidecarLog('info', fd) };
}

test('access lines are batched, operational lines are not held behind them, and order is kept', async (t) => {
  const { file, log } = logToFile(t);
  for (let i = 0; i < 1000; i++) log.access(`{"n":${i}}`);
  log.info('ready', { port: 1 });
  for (let i = 1000; i < 1010; i++) log.access(`{"n":${i}}`);
  const lines = await linesOf(file, 1011);
  assert.equal(lines.length, 1011);
  assert.deepEqual(lines.slice(0, 1000).map((l) => JSON.parse(l).n), [...Array(1000).keys()]);
  assert.equal(JSON.parse(lines[1000]!).msg, 'ready');
  assert.deepEqual(lines.slice(1001).map((l) => JSON.parse(l).n), [...Array(10).keys()].map((i) => i + 1000));
});

test('lines are written byte for byte: non-ASCII text, and bursts larger than the batch buffer', async (t) => {
  const { file, log } = logToFile(t);
  const wide = 'é✓𝄞'.repeat(20_000);
  log.access(JSON.stringify({ n: 0, path: '/caf\u00e9' }));
  // one line alone larger than the buffer lines are gathered in, then many small ones behind it
  log.access(JSON.stringify({ n: 1, wide }));
  for (let i = 2; i < 3000; i++) log.access(JSON.stringify({ n: i, ua: 'ünïcødé' }));
  const lines = await linesOf(file, 3000);
  assert.equal(lines.length, 3000);
  assert.equal(JSON.parse(lines[0]!).path, '/café');
  assert.equal(JSON.parse(lines[1]!).wide, wide);
  assert.deepEqual(lines.map((l) => JSON.parse(l).n), [...Array(3000).keys()]);
  assert.ok(lines.slice(2).every((l) => JSON.parse(l).ua === 'ünïcødé'));
});
