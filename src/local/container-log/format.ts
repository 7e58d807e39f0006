/**
 * The on-disk line format: the kubelet's CRI format, one entry per line,
 * `<timestamp> <stream> <tag> <message>\n` with the timestamp RFC 3339 in UTC with exactly nine
 * fraction digits (`2026-12-07T15:00:13.123456789Z`), stream `stdout` or `stderr`, tag `F` (the entry
 * ends a line) or `P` (a piece of a longer line, continued by the next entry of the same stream).
 * The fixed width makes timestamps compare as strings, so `--since` and following across a rotation
 * need no date parsing. A line that does not parse (a log written before this format) reads as a
 * full line without a timestamp.
 */

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  /** '' for a line written before this format */
  ts: string;
  partial: boolean;
  /** the message, without the entry's newline */
  msg: Buffer;
}

const TS_LENGTH = 30; // 2006-01-02T15:04:05.123456789Z

let cachedSeconds = -1;
let cachedPrefix = '';

/** A timestamp of the format from whole seconds since the epoch and nanoseconds. */
export function formatTimestamp(seconds: number, nanos: number): string {
  // one Date per second, not per line: a busy container writes many lines a second
  if (seconds !== cachedSeconds) {
    cachedPrefix = new Date(seconds * 1000).toISOString().slice(0, 19);
    cachedSeconds = seconds;
  }
  return `${cachedPrefix}.${String(nanos).padStart(9, '0')}Z`;
}

/** The format's timestamp for a Date (milliseconds precision), for comparing with `sinceTime`. */
export function timestampOf(date: Date): string {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return formatTimestamp(seconds, (ms - seconds * 1000) * 1_000_000);
}

/** The entry's header: timestamp, stream, tag and the space before the message. */
export function entryHeader(ts: string, stream: LogStream, partial: boolean): string {
  return `${ts} ${stream} ${partial ? 'P' : 'F'} `;
}

function isTimestampAt(line: Buffer, i: number): boolean {
  // cheap shape check: digits where digits go, the separators where they go
  return line[i + 4] === 0x2d && line[i + 7] === 0x2d && line[i + 10] === 0x54 && line[i + 13] === 0x3a
    && line[i + 19] === 0x2e && line[i + TS_LENGTH - 1] === 0x5a;
}

/** Parses one entry (without its newline). */
export function parseEntry(line: Buffer): LogEntry {
  if (line.length >= TS_LENGTH + 10 && line[TS_LENGTH] === 0x20 && isTimestampAt(line, 0)) {
    const s = TS_LENGTH + 1;
    const streamLen = line[s + 3] === 0x6f ? 6 : line[s + 3] === 0x65 ? 6 : -1; // stdOut / stdErr
    const t = s + streamLen + 1;
    if (streamLen > 0 && line[s + streamLen] === 0x20 && (line[t] === 0x46 || line[t] === 0x50) && line[t + 1] === 0x20) {
      return { ts: line.toString('latin1', 0, TS_LENGTH), partial: line[t] === 0x50, msg: line.subarray(t + 2) };
    }
  }
  return { ts: '', partial: false, msg: line };
}

/** Just the timestamp of an entry ('' when it has none); cheaper than parseEntry. */
export function entryTimestamp(line: Buffer): string {
  return line.length >= TS_LENGTH + 1 && line[TS_LENGTH] === 0x20 && isTimestampAt(line, 0) ? line.toString('latin1', 0, TS_LENGTH) : '';
}
