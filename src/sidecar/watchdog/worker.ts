/**
 * The watchdog's thread: checks the main thread's heartbeat and, when it stopped for the threshold,
 * has the main thread report and exit (watchdog.ts). Runs with nothing but node built-ins.
 */
import { writeSync } from 'node:fs';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { HOOK_KEY, type WatchdogWorkerData } from './protocol.js';

/** How long the interrupt may take to land before the worker ends the process itself. */
const INTERRUPT_GRACE_MS = 1000;

const data = workerData as WatchdogWorkerData;
const beat = new Float64Array(data.shared);
const now = (): number => performance.timeOrigin + performance.now();
let lastCheck = now();

const timer = setInterval(() => {
  const t = now();
  const late = t - lastCheck > data.checkMs * 4;
  lastCheck = t;
  // this thread did not run either (the machine was suspended or starved): no verdict this round
  if (late) return;
  const blockedMs = t - beat[0]!;
  if (blockedMs < data.thresholdMs) return;
  clearInterval(timer);
  try {
    const session = new Session();
    session.connectToMainThread();
    session.post('Runtime.evaluate', { expression: `globalThis[Symbol.for(${JSON.stringify(HOOK_KEY)})](${Math.round(blockedMs)})` });
  } catch {
    // no inspector in this node build: the fallback below ends the process
  }
  setTimeout(() => {
    const finding = `event loop blocked for ${Math.round(now() - beat[0]!)} ms (the main thread did not take the interrupt: stuck outside JavaScript)`;
    try {
      writeSync(1, `${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: `sidecar unresponsive: ${finding}; exiting for a restart` })}\n`);
      writeSync(2, `sidecar: watchdog: ${finding}\n`);
    } finally {
      process.kill(process.pid, 'SIGKILL');
    }
  }, INTERRUPT_GRACE_MS);
}, data.checkMs);
