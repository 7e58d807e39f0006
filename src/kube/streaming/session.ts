/** The protocol-independent face of one exec/attach session, and pieces both transports share. */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { ExecResult } from './status.js';

export interface TerminalSize {
  width: number;
  height: number;
}

export interface ExecSession {
  /** Present when the client asked for stdin; ends when the client half-closes it (v5 CLOSE, SPDY FIN) or leaves. */
  stdin?: Readable;
  stdout?: Writable;
  /** Absent for a tty session: a terminal has one output. */
  stderr?: Writable;
  /** Emits `'resize'` with a `TerminalSize` (tty sessions only). */
  resize: EventEmitter;
  /** The negotiated subprotocol, e.g. `v5.channel.k8s.io` or `v4.channel.k8s.io`. */
  protocol: string;
  transport: 'websocket' | 'spdy';
  tty: boolean;
  /**
   * Ends stdout/stderr (after what was written has gone out), sends the error-channel document
   * and closes the connection. Only the first call counts.
   */
  finish(result: ExecResult): Promise<void>;
  /** Resolves once the connection is gone, whoever closed it. */
  closed: Promise<void>;
}

/** Ends a writable and waits until everything written has been handed on (or it failed, which is the client's loss). */
export function endAndFlush(w: Writable | undefined): Promise<void> {
  if (!w || w.writableFinished || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      w.off('finish', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('finish', done);
    w.on('close', done);
    w.on('error', done);
    if (!w.writableEnded) w.end();
  });
}

/**
 * Reads kubectl's resize messages: JSON objects `{"Width":W,"Height":H}`, one per WebSocket message
 * or newline-separated on the SPDY resize stream (Go's json.Encoder).
 */
export class ResizeDecoder {
  private buf = '';
  constructor(private readonly emitter: EventEmitter) {}

  push(chunk: Buffer | string, whole = false): void {
    this.buf += chunk.toString();
    const parts = whole ? [this.buf] : this.buf.split('\n');
    this.buf = whole ? '' : (parts.pop() ?? '');
    for (const part of parts) this.emit(part);
  }

  private emit(text: string): void {
    if (text.trim() === '') return;
    try {
      const o = JSON.parse(text) as { Width?: unknown; Height?: unknown };
      const width = Number(o.Width);
      const height = Number(o.Height);
      if (Number.isInteger(width) && Number.isInteger(height)) this.emitter.emit('resize', { width, height } satisfies TerminalSize);
    } catch {
      // A garbled resize is not worth ending the session over.
    }
  }
}

/** Runs `fn` once; later calls get the first call's promise. */
export function once<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let p: Promise<void> | undefined;
  return (...args: A) => (p ??= fn(...args));
}
