/**
 * The sidecar's watchdog. A blocked event loop cannot notice itself, so another thread watches a
 * heartbeat the main thread keeps. When the heartbeat stops for `thresholdMs`, that thread
 * interrupts the main thread (V8 runs the interrupt between two JavaScript instructions, even
 * inside an endless loop); there the finding is written and the process exits with
 * SIDECAR_EXIT_UNRESPONSIVE so its supervisor (the local runner, a kubelet) restarts it. If the
 * interrupt does not land (the thread is stuck in native code), the watching thread writes what it
 * knows and kills the process.
 *
 * The watching thread is native (native/watchdog: a plain thread and Isolate::RequestInterrupt),
 * or, where that addon is not built, a worker that interrupts through the inspector. The worker's
 * isolate costs every sidecar 8-10 MiB of RSS; the native thread almost nothing.
 */
import { closeSync, existsSync, writeFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SIDECAR_EXIT_UNRESPONSIVE } from '../../local/layout.js';
import { loadNativeAddon, type NativeAddonSpec } from '../../lib/native-addon.js';
import { currentPluginScope, describeRequest } from './plugin-scope.js';
import { HOOK_KEY, type WatchdogWorkerData } from './protocol.js';

export const DEFAULT_WATCHDOG_MS = 3000;
/** How often the main thread beats; far below any threshold, so only a real block misses beats. */
const BEAT_MS = 250;

export interface WatchdogOptions {
  /** how long the loop may stay blocked (ms); detection takes at most this plus one check interval */
  thresholdMs?: number;
  /** Kubernetes' file for the reason a container ended (read into its lastState); written when it exists */
  terminationLog?: string;
}

export interface Watchdog {
  /** which thread watches: the native addon's, or a worker's where the addon is not built */
  readonly kind: 'native' | 'worker';
  stop(): Promise<void>;
}

interface NativeWatchdog {
  start(hook: (blockedMs: number) => void, thresholdMs: number, checkMs: number): void;
  beat(): void;
  stop(): void;
}

const NATIVE: NativeAddonSpec = { name: 'watchdog', target: 'watchdog', envOverride: 'TESSERA_WATCHDOG_ADDON' };
/** Forces the worker (tests compare both; an operator can too). */
export const WATCHDOG_WORKER_ENV = 'TESSERA_WATCHDOG_WORKER';

export function startWatchdog(opts: WatchdogOptions = {}): Watchdog {
  const thresholdMs = opts.thresholdMs ?? DEFAULT_WATCHDOG_MS;
  const terminationLog = opts.terminationLog ?? '/dev/termination-log';
  const checkMs = Math.max(100, Math.min(500, Math.floor(thresholdMs / 4)));
  const onBlocked = (blockedMs: number): void => {
    const scope = currentPluginScope();
    const where = scope ? ` in plugin ${scope.plugin} (request ${describeRequest(scope)})` : '';
    const finding = printable(`event loop blocked for ${Math.round(blockedMs)} ms${where}`);
    reportAndExit(finding, { blockedMs: Math.round(blockedMs), ...(scope ? { plugin: scope.plugin, request: printable(describeRequest(scope)) } : {}) }, terminationLog);
  };
  const native = process.env[WATCHDOG_WORKER_ENV] ? undefined : loadNativeAddon<NativeWatchdog>(NATIVE);
  if (native && 'addon' in native) return startNative(native.addon, onBlocked, thresholdMs, checkMs);
  return startWorker(onBlocked, thresholdMs, checkMs);
}

function startNative(addon: NativeWatchdog, onBlocked: (blockedMs: number) => void, thresholdMs: number, checkMs: number): Watchdog {
  addon.start(onBlocked, thresholdMs, checkMs);
  const timer = setInterval(() => addon.beat(), BEAT_MS);
  timer.unref();
  return {
    kind: 'native',
    async stop() {
      clearInterval(timer);
      addon.stop();
    },
  };
}

function startWorker(onBlocked: (blockedMs: number) => void, thresholdMs: number, checkMs: number): Watchdog {
  const shared = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const beat = new Float64Array(shared);
  const now = (): number => performance.timeOrigin + performance.now();
  beat[0] = now();
  const timer = setInterval(() => {
    beat[0] = now();
  }, BEAT_MS);
  timer.unref();

  (globalThis as Record<symbol, unknown>)[Symbol.for(HOOK_KEY)] = onBlocked;

  const data: WatchdogWorkerData = { shared, thresholdMs, checkMs };
  // None of the main thread's node flags: the worker needs none, and some (--input-type) refuse a file
  // entry. Small heaps: a worker's isolate is still most of the watchdog's ~10 MiB (docs/plugins.md).
  // node:worker_threads only where the native addon is missing
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: data, execArgv: [], stdout: false, stderr: false,
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16, codeRangeSizeMb: 2, stackSizeMb: 1 },
  });
  worker.unref();
  worker.on('error', (err) => {
    // the sidecar goes on serving without a watchdog rather than not at all
    writeSync(2, `sidecar: watchdog stopped: ${err.message}\n`);
  });
  return {
    kind: 'worker',
    async stop() {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}

/**
 * Runs on the main thread inside the inspector's interrupt: the sidecar log (stdout) gets the
 * finding as an error line, stderr its one-line form (the runner's termination message), then the
 * process ends.
 */
function reportAndExit(finding: string, fields: Record<string, unknown>, terminationLog: string): never {
  const line = JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: `sidecar unresponsive: ${finding}; exiting for a restart`, ...fields });
  try {
    writeSync(1, `${line}\n`);
    writeSync(2, `sidecar: watchdog: ${finding}\n`);
  } catch {
    // a closed pipe must not keep the process alive
  }
  try {
    if (existsSync(terminationLog)) writeFileSync(terminationLog, `watchdog: ${finding}\n`);
  } catch {
    // best effort: the log lines above carry the same finding
  }
  // The inspector session the worker opened would make node add its own last line on stderr, in
  // place of the finding the runner reports.
  try {
    closeSync(2);
  } catch {
    // already closed
  }
  process.exit(SIDECAR_EXIT_UNRESPONSIVE);
}

/** Printable ASCII, bounded: the finding names a request path a client chose. */
function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}
