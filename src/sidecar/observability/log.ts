/**
 * The sidecar's log: one JSON object per line on stdout (the runner captures it as the `sidecar`
 * container's log). Access-log lines are batched and flushed asynchronously so a request never
 * pays for a synchronous write; operational lines flush at once.
 */
import { write } from 'node:fs';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** Bytes of pending lines held before they are written at once (above 64 KiB they are). */
const LOG_BUFFER = 128 * 1024;

export class SidecarLog {
  /**
   * Lines waiting to be written, encoded as they come into one buffer (no array of lines to join
   * and encode again at flush time); a second buffer takes new lines while the first is written.
   */
  private buf: Buffer = Buffer.allocUnsafe(LOG_BUFFER);
  private spare: Buffer | undefined = Buffer.allocUnsafe(LOG_BUFFER);
  private used = 0;
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
    return this.urgent || this.used > 64 * 1024 ? 0 : 50;
  }

  private push(line: string): void {
    // at most 3 bytes of UTF-8 per UTF-16 unit, and the newline
    const need = line.length * 3 + 1;
    if (this.used + need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + need));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(line, this.used, 'utf8');
    this.buf[this.used++] = 0x0a;
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
    if (this.writing || this.used === 0) return;
    const out = this.buf;
    const length = this.used;
    this.buf = this.spare ?? Buffer.allocUnsafe(LOG_BUFFER);
    this.spare = undefined;
    this.used = 0;
    this.urgent = false;
    this.writing = true;
    write(this.fd, out, 0, length, null, () => {
      this.writing = false;
      // a buffer grown for an outsized burst is not kept
      if (out.length === LOG_BUFFER) this.spare = out;
      if (this.used > 0) this.flushSoon(this.nextDelay());
    });
  }

  /** Writes everything pending synchronously (at exit). */
  flushSync(): void {
    if (this.used === 0) return;
    const text = this.buf.toString('utf8', 0, this.used);
    this.used = 0;
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
