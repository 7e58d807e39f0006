/**
 * Container logs from their files, as both the local Kubernetes API (`pods/log`) and the kubelet API of
 * `tessera node` (`/containerLogs`) serve them: from the end for `tailLines`, at most `limitBytes`,
 * followed as the file grows (polled; a file that shrank was rotated or truncated and is read from its
 * start again) until the caller aborts or, when given, `following()` says the container is gone.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';

const FOLLOW_POLL_MS = 200;
const TAIL_CHUNK = 64 * 1024;

/** The byte offset where the last `lines` lines of a file start, reading backwards in chunks. */
export async function tailOffset(file: string, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  const fh = await open(file, 'r');
  try {
    let pos = size;
    let seen = 0;
    const buf = Buffer.alloc(TAIL_CHUNK);
    // A final newline ends the last line; it does not start another one.
    let skipTrailing = true;
    while (pos > 0) {
      const len = Math.min(TAIL_CHUNK, pos);
      pos -= len;
      await fh.read(buf, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing) {
          skipTrailing = false;
          continue;
        }
        if (++seen === lines) return pos + i + 1;
      }
    }
    return 0;
  } finally {
    await fh.close();
  }
}

/** The size of a log file; 0 while it does not exist. */
export async function logFileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

export interface ContainerLogOptions {
  tailLines?: number;
  limitBytes?: number;
  follow?: boolean;
  /** while following: whether to go on (the container still exists); always by default */
  following?: () => boolean;
}

/** A container's log file as a stream: its last `tailLines` lines (all by default), then what is appended. */
export async function streamContainerLog(file: string, opts: ContainerLogOptions, signal: AbortSignal): Promise<Readable> {
  const start = opts.tailLines !== undefined ? await tailOffset(file, await logFileSize(file), opts.tailLines) : 0;
  const out = new PassThrough();
  let offset = start;
  let sent = 0;
  const limit = opts.limitBytes;
  const pump = async (): Promise<void> => {
    while (!signal.aborted) {
      const size = await logFileSize(file);
      if (size < offset) offset = 0; // rotated or truncated: start over
      if (size > offset) {
        const end = limit !== undefined ? Math.min(size, offset + (limit - sent)) : size;
        if (end > offset) {
          for await (const chunk of createReadStream(file, { start: offset, end: end - 1 })) {
            if (signal.aborted) break;
            if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
          }
          sent += end - offset;
          offset = end;
        }
        if (limit !== undefined && sent >= limit) break;
      }
      if (!opts.follow || (opts.following && !opts.following())) break;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
    out.end();
  };
  pump().catch((e: unknown) => out.destroy(e as Error));
  return out;
}
