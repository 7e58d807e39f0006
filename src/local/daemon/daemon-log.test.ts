/** daemon.log stays within the limits: copy-then-truncate rotation of an O_APPEND file the process keeps writing to. */
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keepDaemonLogBounded, rotateDaemonLogIfFull } from './daemon-log.js';

describe('daemon.log rotation', () => {
  it('copies to .1 (shifting older copies, keeping maxFiles in all), truncates, and appends continue at the start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daemon-log-'));
    const file = join(dir, 'daemon.log');
    const fd = openSync(file, 'a');
    try {
      const rotation = { maxSize: 1000, maxFiles: 3 };
      for (let round = 1; round <= 4; round++) {
        writeSync(fd, `${String(round).repeat(1100)}\n`);
        assert.equal(rotateDaemonLogIfFull(file, rotation), true);
        assert.equal(statSync(file).size, 0);
      }
      assert.equal(rotateDaemonLogIfFull(file, rotation), false, 'below maxSize: nothing to do');
      writeSync(fd, 'next line\n');
      assert.equal(readFileSync(file, 'utf8'), 'next line\n', 'O_APPEND writes start again at 0');
      assert.ok(readFileSync(`${file}.1`, 'utf8').startsWith('4'));
      assert.ok(readFileSync(`${file}.2`, 'utf8').startsWith('3'));
      assert.equal(existsSync(`${file}.3`), false, 'the file and two copies: maxFiles 3');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('only rotates a file the given descriptor writes to (a foreground daemon logs to a terminal)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daemon-log-'));
    const file = join(dir, 'daemon.log');
    const other = join(dir, 'other.log');
    const fd = openSync(other, 'a');
    try {
      writeSync(openSync(file, 'a'), 'x'.repeat(2000));
      const stop = keepDaemonLogBounded(file, { maxSize: 1000, maxFiles: 2 }, { fd, intervalMs: 5 });
      stop();
      assert.equal(statSync(file).size, 2000);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
