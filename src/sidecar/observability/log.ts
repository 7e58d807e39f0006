/**
 * The sidecar's log: one JSON object per line on stdout (the runner captures it as the `sidecar`
 * container's log). Access-log lines are batched and flushed asynchronously so a request never
 * pays for a synchronous write; operational lines flush at once.
 */
import { write } from 'node:fs';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export class SidecarLog {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  /** An operational line is waiting: it goes out as soon as the write in flight completes. */
  private urgent = false;
  private level: number;

  constructor(level: LogLevel = 'info', private readonly fd = 1) {
    this.level = RANK[level];
  }

  setLevel(level: string): void {
    const r = RANK[level as LogLevel];
    if (r !== undefined) this.level = r;
  }

  /** An operational message; always written when at or above the level. */
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < this.level) return;
    this.push(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
    this.urgent = true;
    this.flushSoon(0);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields);
  }

  /** An access-log line (already JSON); written regardless of level, batched. */
  access(line: string): void {
    this.push(line);
    this.flushSoon(this.nextDelay());
  }

  /**
   * Access lines wait up to 50 ms to share one write: under load, writing whatever had piled up the
   * moment the previous write completed meant one write per few requests (≈ 1.5 µs of a hop's CPU,
   * docs/benchmarks.md "Where a hop's CPU goes").
   */
  private nextDelay(): number {
    return this.urgent || this.pendingBytes > 64 * 1024 ? 0 : 50;
  }

  private push(line: string): void {
    this.pending.push(line);
    this.pendingBytes += line.length + 1;
  }

  private flushSoon(delay: number): void {
    if (this.writing) return;
    if (delay === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
    this.timer.unref?.();
  }

  private flush(): void {
    if (this.writing || this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join('\n') + '\n');
    this.pending = [];
    this.pendingBytes = 0;
    this.urgent = false;
    this.writing = true;
    write(this.fd, buf, () => {
      this.writing = false;
      if (this.pending.length > 0) this.flushSoon(this.nextDelay());
    });
  }

  /** Writes everything pending synchronously (at exit). */
  flushSync(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    try {
      process.stdout.write(text);
    } catch {
      // the log is best effort at exit
    }
  }
}

let lastMs = 0;
let lastIso = '';
/** ISO timestamp, computed once per millisecond however many lines share it. */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
/** A JSON string literal; skips JSON.stringify for the usual plain ASCII value. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}
