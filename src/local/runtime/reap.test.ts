/** reapStale kills only processes that prove (via /proc/PID/environ) they belong to this state directory. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { alive } from '../../lib/test-processes.js';
import { stateFiles } from '../layout.js';
import { reapStale } from './index.js';
import { pidFile } from './processes.js';

describe('reapStale', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-reap-'));
  const started: number[] = [];

  after(() => {
    for (const pid of started) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  function sleeper(marker: string): number {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true, stdio: 'ignore', env: { ...process.env, TESSERA_STATE_DIR: marker },
    });
    child.unref();
    started.push(child.pid!);
    return child.pid!;
  }

  it('stops our stale processes and leaves others alone', async () => {
    const ours = sleeper(stateDir);
    const foreign = sleeper(`${stateDir}-other`);
    mkdirSync(stateFiles.podDir(stateDir, 'demo', 'p1'), { recursive: true });
    writeFileSync(pidFile(stateDir, 'demo', 'p1', 'ours'), `${ours}\n`);
    writeFileSync(pidFile(stateDir, 'demo', 'p1', 'foreign'), `${foreign}\n`);
    // A pid file pointing at this test process itself must never be honoured.
    writeFileSync(pidFile(stateDir, 'demo', 'p1', 'self'), `${process.pid}\n`);
    await new Promise((r) => setTimeout(r, 200)); // let both exec so /proc shows their env

    const reaped = await reapStale(stateDir);
    assert.deepEqual(reaped, [ours]);
    for (let i = 0; i < 100 && alive(ours); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alive(ours), false);
    assert.equal(alive(foreign), true);
    assert.equal(existsSync(pidFile(stateDir, 'demo', 'p1', 'ours')), false);
  });
});
