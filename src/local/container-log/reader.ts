/**
 * Reading a container's log as `kubectl logs` asks for it, at a cost bound by what is printed: the
 * start is found by reading backwards in chunks (`tailLines`) or by skipping whole rotated files older
 * than `since`, then entries stream forward (at most `limitBytes` of output). Following polls the file
 * being written; when it was rotated (or the container restarted), what is left of the old file is
 * read through its open descriptor and reading resumes at the first entry newer than the last one
 * read — timestamps grow strictly within a run (writer.ts), so nothing is printed twice and nothing
 * still on disk is skipped.
 */
import { close, fstat, open, read } from 'node:fs';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { PassThrough, type Readable } from 'node:stream';
import { entryTimestamp, parseEntry, timestampOf } from './format.js';
import { previousRunFile, runFiles, type RunFile } from './files.js';
import { RotationWatcher } from './watchers.js';

const openFd = promisify(open);
const readFd = promisify(read);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);

/** An open log file: by descriptor, so one a rotation removed stays readable. */
class LogFd {
  constructor(readonly fd: number) {}
  async read(buf: Buffer, length: number, position: number): Promise<number> {
    return (await readFd(this.fd, buf, 0, length, position)).bytesRead;
  }
  async size(): Promise<number> {
    return (await fstatFd(this.fd)).size;
  }
  close(): Promise<void> {
    return closeFd(this.fd);
  }
}

export interface ReadLogOptions {
  /** only the last N lines */
  tailLines?: number;
  /** only lines written at or after this timestamp (format.ts's `timestampOf`) */
  since?: string;
  /** at most this many bytes of output */
  limitBytes?: number;
  /** each line prefixed with its timestamp and a space */
  timestamps?: boolean;
  follow?: boolean;
  /** the run before the current one (`--previous`) */
  previous?: boolean;
  /** while following: whether to go on (the container still exists); always by default */
  following?: () => boolean;
}

const CHUNK = 64 * 1024;
export const FOLLOW_POLL_MS = 100;
const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

interface Handle {
  /** the rotation number; undefined for the file being written (or one handed over by a rotation) */
  seq: number | undefined;
  fh: LogFd;
  ino: number;
}

/** Whether the container has a previous run to show. */
export function hasPreviousRun(file: string): boolean {
  return runFiles(previousRunFile(file)).length > 0;
}

async function openAll(files: RunFile[]): Promise<Handle[]> {
  const out: Handle[] = [];
  for (const f of files) {
    try {
      const fh = new LogFd(await openFd(f.path, 'r'));
      out.push({ seq: f.seq, fh, ino: (await fstatFd(fh.fd)).ino });
    } catch (e) {
      // rotated away between listing and opening: its lines are gone, as on a node
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return out;
}

/**
 * Visits a file's entries from the last to the first (without their newline), with the offset just
 * past each, until `visit` returns false. Reads backwards CHUNK bytes at a time.
 */
async function eachEntryBackward(fh: LogFd, size: number, visit: (entry: Buffer, end: number) => boolean): Promise<void> {
  let chunkEnd = size;
  let carry = EMPTY;
  const buf = Buffer.allocUnsafe(CHUNK);
  while (chunkEnd > 0) {
    const len = Math.min(CHUNK, chunkEnd);
    const start = chunkEnd - len;
    if ((await fh.read(buf, len, start)) < len) return; // truncated under us
    const data = carry.length > 0 ? Buffer.concat([buf.subarray(0, len), carry]) : buf.subarray(0, len);
    let e = data.length;
    for (;;) {
      const nl = e >= 2 ? data.lastIndexOf(NEWLINE, e - 2) : -1;
      if (nl < 0) break;
      const end = data[e - 1] === NEWLINE ? e - 1 : e;
      if (!visit(data.subarray(nl + 1, end), start + e)) return;
      e = nl + 1;
    }
    if (start === 0) {
      if (e > 0) visit(data.subarray(0, data[e - 1] === NEWLINE ? e - 1 : e), e);
      return;
    }
    carry = Buffer.from(data.subarray(0, e));
    chunkEnd = start;
  }
}

/** The timestamp of a file's last entry ('' when empty or without timestamps). */
async function lastTimestamp(h: Handle): Promise<string> {
  let ts = '';
  await eachEntryBackward(h.fh, await h.fh.size(), (entry) => {
    ts = entryTimestamp(entry);
    return false;
  });
  return ts;
}

/**
 * An offset in the file at or before its first entry at or after `since`, found by bisecting on the
 * entries' timestamps (they grow within a file): a few small reads, not a scan of the file.
 */
async function sinceOffset(fh: LogFd, size: number, since: string): Promise<number> {
  let lo = 0; // always the start of an entry older than `since` (or of the file)
  let hi = size;
  const buf = Buffer.allocUnsafe(4096);
  while (hi - lo > CHUNK) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const n = await fh.read(buf, buf.length, mid);
    const nl = buf.subarray(0, n).indexOf(NEWLINE);
    if (nl < 0 || n - nl - 1 < 31) break; // an entry longer than the probe: scan from lo
    const ts = entryTimestamp(buf.subarray(nl + 1, n));
    if (ts === '') break; // no timestamps (an old log): scan from lo
    if (ts < since) lo = mid + nl + 1;
    else hi = mid;
  }
  return lo;
}

interface Position {
  index: number;
  offset: number;
  /** the timestamp of the entry just before the position */
  before: string;
}

/** Where the last `lines` lines start, reading the files backwards. */
async function tailPosition(handles: Handle[], lines: number): Promise<Position> {
  let seen = 0;
  let first = true;
  for (let i = handles.length - 1; i >= 0; i--) {
    const h = handles[i]!;
    let found: Position | undefined;
    await eachEntryBackward(h.fh, await h.fh.size(), (entry, end) => {
      // a line is its pieces and the full entry that ends it; an unfinished last line counts as one
      const { partial, ts } = parseEntry(entry);
      if (!partial || first) {
        if (seen++ === lines) {
          found = { index: i, offset: end, before: ts };
          return false;
        }
      }
      first = false;
      return true;
    });
    if (found) return found;
  }
  return { index: 0, offset: 0, before: '' };
}

/**
 * The container log of the run `file` names (`<container>.log`; `previous` reads the run before) as a
 * stream of what `kubectl logs` prints.
 */
export async function readContainerLog(file: string, opts: ReadLogOptions, signal: AbortSignal): Promise<Readable> {
  const base = opts.previous ? previousRunFile(file) : file;
  const follow = opts.follow === true && !opts.previous;
  // before the listing, so no rotation falls between the two
  const watcher = follow ? new RotationWatcher(base) : undefined;
  let handles: Handle[];
  try {
    handles = await openAll(runFiles(base));
  } catch (e) {
    watcher?.close();
    throw e;
  }
  const closeAll = async (hs: Handle[]) => {
    await Promise.all(hs.map((h) => h.fh.close().catch(() => undefined)));
  };
  let pos: Position = { index: 0, offset: 0, before: '' };
  try {
    if (opts.tailLines !== undefined && handles.length > 0) pos = await tailPosition(handles, opts.tailLines);
    if (opts.since !== undefined) {
      // whole files older than `since` are not read at all
      while (pos.index < handles.length - 1 && (await lastTimestamp(handles[pos.index]!)) < opts.since) pos = { index: pos.index + 1, offset: 0, before: pos.before };
      // and within the first file read, the part before `since` is skipped by bisection
      const h = handles[pos.index];
      if (h) {
        const offset = await sinceOffset(h.fh, await h.fh.size(), opts.since);
        if (offset > pos.offset) pos = { index: pos.index, offset, before: pos.before };
      }
    }
  } catch (e) {
    watcher?.close();
    await closeAll(handles);
    throw e;
  }

  const out = new PassThrough();
  const limit = opts.limitBytes;
  let sent = 0;
  let lastTs = pos.before;
  let atLineStart = true;
  let skipLine = false;
  let done = false;
  const pieces: Buffer[] = [];
  let piecesBytes = 0;
  const push = (b: Buffer) => {
    if (done || b.length === 0) return;
    if (limit !== undefined && sent + piecesBytes + b.length >= limit) {
      b = b.subarray(0, limit - sent - piecesBytes);
      done = true;
    }
    pieces.push(b);
    piecesBytes += b.length;
  };
  const NL = Buffer.from('\n');
  const takeEntry = (line: Buffer, complete: boolean) => {
    const e = parseEntry(line);
    if (e.ts !== '') {
      if (e.ts <= lastTs) return; // read before a rotation
      lastTs = e.ts;
    }
    if (atLineStart) {
      skipLine = opts.since !== undefined && e.ts < opts.since;
      if (!skipLine && opts.timestamps && e.ts !== '') push(Buffer.from(`${e.ts} `, 'latin1'));
    }
    if (!skipLine) {
      push(e.msg);
      // an entry cut short (the file's end without a newline) is printed as written
      if (!e.partial && complete) push(NL);
    }
    atLineStart = !e.partial;
  };
  const flushOut = async () => {
    if (piecesBytes === 0) return;
    const data = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, piecesBytes);
    pieces.length = 0;
    sent += piecesBytes;
    piecesBytes = 0;
    if (!out.write(data)) await new Promise((r) => out.once('drain', r));
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const t = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });

  const pump = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(CHUNK);
    let { index, offset } = pos;
    let carry = EMPTY;
    let rotationSeen = false;
    out.on('close', () => {
      done = true;
    });
    while (!done && !signal.aborted) {
      if (index >= handles.length) {
        // no file yet (a container that has not written): only a follow waits for one
        if (!follow || (opts.following && !opts.following())) break;
        await sleep(FOLLOW_POLL_MS);
        await closeAll(handles);
        handles = await openAll(runFiles(base));
        index = 0;
        offset = 0;
        continue;
      }
      const h = handles[index]!;
      const bytesRead = await h.fh.read(buf, CHUNK, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        rotationSeen = false;
        const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let s = 0;
        for (let nl = data.indexOf(NEWLINE); nl >= 0 && !done; nl = data.indexOf(NEWLINE, s)) {
          takeEntry(data.subarray(s, nl), true);
          s = nl + 1;
        }
        carry = s < data.length ? Buffer.from(data.subarray(s)) : EMPTY;
        await flushOut();
        continue;
      }
      if (index < handles.length - 1) {
        if (carry.length > 0) takeEntry(carry, false);
        carry = EMPTY;
        index++;
        offset = 0;
        continue;
      }
      // the end of the newest file
      if (!follow || (opts.following && !opts.following())) {
        if (carry.length > 0) takeEntry(carry, false);
        await flushOut();
        break;
      }
      const now = await stat(base).catch(() => undefined);
      if (now !== undefined && h.seq === undefined && now.ino === h.ino) {
        await sleep(FOLLOW_POLL_MS);
        continue;
      }
      if (now === undefined) {
        // nothing is being written now (before a restart, or the pod's files are going)
        await sleep(FOLLOW_POLL_MS);
      }
      if (!rotationSeen) {
        rotationSeen = true; // read the old file once more: lines written before the rename
        continue;
      }
      // rotated: the files the writer handed over (in order), then the one it writes now; without
      // them (the writer is elsewhere), the files on disk from the first with an entry newer than
      // the last one read
      const current = await openAll(runFiles(base).filter((f) => f.seq === undefined));
      const handed = watcher!.take().map((f): Handle => ({ seq: undefined, fh: new LogFd(f.fd), ino: f.ino }));
      let next: Handle[];
      if (handed.length > 0) {
        next = [...handed, ...current].filter((x, i, all) => {
          // the file being read now, or the current one handed over already, is not read twice
          const dup = x.ino === h.ino || all.findIndex((y) => y.ino === x.ino) < i;
          if (dup) void x.fh.close().catch(() => undefined);
          return !dup;
        });
      } else {
        await closeAll(current);
        next = await openAll(runFiles(base));
      }
      await closeAll(handles);
      handles = next;
      carry = EMPTY;
      index = handles.length;
      offset = 0;
      for (let i = 0; i < handles.length; i++) {
        if (i === handles.length - 1 || (await lastTimestamp(handles[i]!)) > lastTs) {
          index = i;
          break;
        }
      }
      rotationSeen = false;
    }
  };
  pump()
    .then(() => out.end(), (e: unknown) => out.destroy(e as Error))
    .finally(() => {
      watcher?.close();
      return closeAll(handles);
    });
  return out;
}

/** The query of a `pods/log` request (kubectl's names), as reading options. */
export interface LogQuery {
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339 */
  sinceTime?: string;
  limitBytes?: number;
  timestamps?: boolean;
  follow?: boolean;
  previous?: boolean;
}

export function readOptionsOf(q: LogQuery, now: Date = new Date()): ReadLogOptions {
  const o: ReadLogOptions = {};
  if (q.tailLines !== undefined && q.tailLines >= 0) o.tailLines = q.tailLines;
  if (q.sinceSeconds !== undefined) o.since = timestampOf(new Date(now.getTime() - q.sinceSeconds * 1000));
  else if (q.sinceTime !== undefined) o.since = timestampOf(new Date(q.sinceTime));
  if (q.limitBytes !== undefined) o.limitBytes = q.limitBytes;
  if (q.timestamps) o.timestamps = true;
  if (q.follow) o.follow = true;
  if (q.previous) o.previous = true;
  return o;
}
