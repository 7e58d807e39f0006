/**
 * The daemon's end of a container's stdout and stderr pipes: every line becomes one entry of the CRI
 * format (format.ts) with the time it arrived, and the file rotates at entry boundaries once the next
 * entry would take it past `maxSize`, so no line is lost or split by a rotation. A line longer than
 * 16 KiB is written in pieces (`P` entries) as it arrives, and so is the start of a line still
 * without its end after IDLE_FLUSH_MS (a prompt); the file does not rotate in the middle of
 * such a line unless it has reached twice `maxSize`. Writes are synchronous: one write per chunk read
 * from a pipe, and a reader in this process never sees half an entry or a rotation half done.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { LogStream } from './format.js';
import { runFiles } from './files.js';
import type { LogRotation } from './rotation.js';
import { notifyRotated } from './watchers.js';

/** Message bytes per entry: the kubelet's (CRI runtimes') pipe buffer size. */
export const MAX_ENTRY_MESSAGE = 16 * 1024;
const NEWLINE = 0x0a;
/** How long the start of a line waits for its end before it is written as a piece. */
export const IDLE_FLUSH_MS = 1000;
const STDOUT = Buffer.from('Z stdout ', 'latin1');
const STDERR = Buffer.from('Z stderr ', 'latin1');

/** Entries built in one buffer: no allocation per line. */
class EntryBatch {
  buf = Buffer.allocUnsafe(128 * 1024);
  length = 0;
  /** where each entry ends in `buf` */
  ends: number[] = [];
  /** whether each entry is a piece of a longer line (`P`) */
  partial: boolean[] = [];

  reset(): void {
    this.length = 0;
    this.ends.length = 0;
    this.partial.length = 0;
  }

  /** `<prefix><nanos>Z <stream> <P|F> <src[start, end)>\n`; `stream` carries the Z and the spaces around it */
  add(prefix: Buffer, nanos: number, stream: Buffer, partial: boolean, src: Buffer, start: number, end: number): void {
    const n = prefix.length + 9 + stream.length + 2 + (end - start) + 1;
    if (this.length + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    const b = this.buf;
    let o = this.length + prefix.copy(b, this.length);
    for (let i = 8; i >= 0; i--) {
      b[o + i] = 0x30 + (nanos % 10);
      nanos = Math.floor(nanos / 10);
    }
    o += 9;
    o += stream.copy(b, o);
    b[o++] = partial ? 0x50 : 0x46;
    b[o++] = 0x20;
    o += src.copy(b, o, start, end);
    b[o++] = NEWLINE;
    this.length = o;
    this.ends.push(o);
    this.partial.push(partial);
  }

  /** After a chunk of many short lines the buffer does not stay large. */
  shrink(): void {
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(128 * 1024);
  }
}

export class ContainerLogWriter {
  readonly #file: string;
  readonly #rotation: LogRotation;
  readonly #log: (line: string) => void;
  #fd: number | undefined;
  #size = 0;
  /** rotation numbers of the run's rotated files, oldest first */
  #rotated: number[];
  #pending: Record<LogStream, Buffer[]> = { stdout: [], stderr: [] };
  #pendingBytes: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  /** streams whose current line has pieces in the file already */
  #openLines = new Set<LogStream>();
  #lastSeconds = 0;
  #lastNanos = 0;
  #secondsPrefix = Buffer.alloc(0);
  /** entries of one chunk, built in one buffer reused chunk after chunk */
  #batch = new EntryBatch();
  #closed = false;
  #failed = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #attached = 0;

  constructor(file: string, rotation: LogRotation, log: (line: string) => void = () => undefined) {
    this.#file = file;
    this.#rotation = rotation;
    this.#log = log;
    mkdirSync(dirname(file), { recursive: true });
    this.#rotated = runFiles(file).flatMap((f) => (f.seq === undefined ? [] : [f.seq]));
    this.#fd = openSync(file, 'a');
    this.#size = fstatSync(this.#fd).size;
  }

  /** Reads `stream` until it ends; the writer closes once every attached stream has ended. */
  attach(stream: Readable, name: LogStream): void {
    this.#attached++;
    stream.on('data', (chunk: Buffer) => this.write(name, chunk));
    stream.once('close', () => {
      this.#flushPartial(name);
      if (--this.#attached === 0) this.close();
    });
  }

  /** Takes a chunk of a stream's output. */
  write(stream: LogStream, chunk: Buffer): void {
    if (this.#closed) return;
    const entries = this.#batch;
    entries.reset();
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      const pending = this.#pending[stream];
      if (pending.length > 0) {
        pending.push(chunk.subarray(start, nl));
        const line = Buffer.concat(pending);
        this.#emitLine(entries, stream, line, 0, line.length);
        pending.length = 0;
        this.#pendingBytes[stream] = 0;
      } else this.#emitLine(entries, stream, chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) {
      // keep a copy: the stream may reuse its buffer
      this.#pending[stream].push(Buffer.from(chunk.subarray(start)));
      this.#pendingBytes[stream] += chunk.length - start;
      if (this.#pendingBytes[stream] >= MAX_ENTRY_MESSAGE) {
        const all = Buffer.concat(this.#pending[stream]);
        const whole = all.length - (all.length % MAX_ENTRY_MESSAGE);
        for (let i = 0; i < whole; i += MAX_ENTRY_MESSAGE) this.#entry(entries, stream, true, all, i, i + MAX_ENTRY_MESSAGE);
        this.#pending[stream] = whole < all.length ? [all.subarray(whole)] : [];
        this.#pendingBytes[stream] = all.length - whole;
      }
    }
    this.#writeEntries(entries, stream);
    if (this.#pendingBytes[stream] > 0 && this.#idleTimer === undefined) {
      // a prompt or progress line without its newline yet is shown after a moment, as a piece
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = undefined;
        this.#flushPartial('stdout');
        this.#flushPartial('stderr');
      }, IDLE_FLUSH_MS);
      this.#idleTimer.unref();
    }
  }

  /** Writes what is pending and closes the file; later output is dropped. */
  close(): void {
    if (this.#closed) return;
    clearTimeout(this.#idleTimer);
    this.#flushPartial('stdout');
    this.#flushPartial('stderr');
    this.#closed = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** A stream ended in the middle of a line: what it wrote of it, as a last piece. */
  #flushPartial(stream: LogStream): void {
    if (this.#closed || this.#pendingBytes[stream] === 0) return;
    const entries = this.#batch;
    entries.reset();
    const rest = Buffer.concat(this.#pending[stream]);
    this.#entry(entries, stream, true, rest, 0, rest.length);
    this.#pending[stream] = [];
    this.#pendingBytes[stream] = 0;
    this.#writeEntries(entries, stream);
  }

  /** One line as entries: pieces of MAX_ENTRY_MESSAGE, the last one full. */
  /** The line `src[start, end)` (a view would cost an object per line). */
  #emitLine(entries: EntryBatch, stream: LogStream, src: Buffer, start: number, end: number): void {
    let i = start;
    for (; end - i > MAX_ENTRY_MESSAGE; i += MAX_ENTRY_MESSAGE) this.#entry(entries, stream, true, src, i, i + MAX_ENTRY_MESSAGE);
    this.#entry(entries, stream, false, src, i, end);
  }

  #entry(entries: EntryBatch, stream: LogStream, partial: boolean, src: Buffer, start: number, end: number): void {
    this.#nextTimestamp();
    entries.add(this.#secondsPrefix, this.#lastNanos, stream === 'stdout' ? STDOUT : STDERR, partial, src, start, end);
  }

  /** Now, but strictly after the last entry's: a reader resumes after a rotation by timestamp. */
  #nextTimestamp(): void {
    const ms = performance.timeOrigin + performance.now();
    let seconds = Math.floor(ms / 1000);
    let nanos = Math.floor((ms - seconds * 1000) * 1e6);
    if (seconds < this.#lastSeconds || (seconds === this.#lastSeconds && nanos <= this.#lastNanos)) {
      seconds = this.#lastSeconds;
      nanos = this.#lastNanos + 1;
      if (nanos >= 1e9) {
        seconds++;
        nanos = 0;
      }
    }
    if (seconds !== this.#lastSeconds || this.#secondsPrefix.length === 0) {
      // `2026-12-07T15:00:13.`: made once a second, copied into each entry
      this.#secondsPrefix = Buffer.from(`${new Date(seconds * 1000).toISOString().slice(0, 19)}.`, 'latin1');
    }
    this.#lastSeconds = seconds;
    this.#lastNanos = nanos;
  }

  /** Writes entries, rotating between two of them where the next would not fit. */
  #writeEntries(entries: EntryBatch, stream: LogStream): void {
    if (entries.ends.length === 0 || this.#fd === undefined) return;
    const { maxSize } = this.#rotation;
    let from = 0; // the start of what is not written yet
    for (let i = 0; i < entries.ends.length; i++) {
      const start = i === 0 ? 0 : entries.ends[i - 1]!;
      const len = entries.ends[i]! - start;
      const size = this.#size + (start - from);
      const midLine = this.#openLines.size > 0;
      if (size > 0 && size + len > maxSize && (!midLine || size + len > 2 * maxSize)) {
        this.#flush(entries.buf.subarray(from, start));
        from = start;
        this.#rotate();
      }
      // 'P' opens (or continues) a line, 'F' closes it
      if (entries.partial[i]) this.#openLines.add(stream);
      else this.#openLines.delete(stream);
    }
    this.#flush(entries.buf.subarray(from, entries.length));
    entries.shrink();
  }

  #flush(data: Buffer): void {
    if (data.length === 0 || this.#fd === undefined) return;
    try {
      let off = 0;
      while (off < data.length) off += writeSync(this.#fd, data, off);
      this.#size += data.length;
      this.#failed = false;
    } catch (e) {
      // a full disk loses these lines, not the container; said once until a write succeeds again
      if (!this.#failed) this.#log(`container log ${this.#file}: write failed (${(e as Error).message}); lines are dropped until it succeeds`);
      this.#failed = true;
    }
  }

  #rotate(): void {
    try {
      closeSync(this.#fd!);
      const seq = (this.#rotated[this.#rotated.length - 1] ?? 0) + 1;
      renameSync(this.#file, `${this.#file}.${seq}`);
      notifyRotated(this.#file, `${this.#file}.${seq}`);
      this.#rotated.push(seq);
      while (this.#rotated.length > this.#rotation.maxFiles - 1) rmSync(`${this.#file}.${this.#rotated.shift()!}`, { force: true });
    } catch (e) {
      this.#log(`container log ${this.#file}: rotation failed (${(e as Error).message})`);
    }
    try {
      this.#fd = openSync(this.#file, 'a');
    } catch (e) {
      this.#fd = undefined;
      this.#log(`container log ${this.#file}: cannot open (${(e as Error).message}); the container's output is dropped`);
    }
    this.#size = 0;
  }
}
