/** The rotating writer and the readers on real files: formats, rotation bounds, tail, since, limit, follow, previous. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  ContainerLogWriter, entryHeader, logRotationOf, MAX_ENTRY_MESSAGE, parseByteQuantity, parseEntry, readContainerLog, retireRun, runFiles,
  type ReadLogOptions,
} from './index.js';

const dirs: string[] = [];
function logFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-clog-'));
  dirs.push(dir);
  return join(dir, 'app.log');
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function read(file: string, opts: ReadLogOptions = {}): Promise<string> {
  const s = await readContainerLog(file, opts, new AbortController().signal);
  let out = '';
  for await (const c of s) out += String(c);
  return out;
}

/** Compares line by line, so a failure names the first line that differs rather than printing both logs. */
function sameLines(text: string, expected: string[]): void {
  const got = text.split('\n');
  assert.equal(got.pop(), '', 'the output ends with a newline');
  const at = got.findIndex((l, i) => l !== expected[i]);
  assert.deepEqual({ count: got.length, firstDifference: at < 0 ? undefined : { at, got: got[at], expected: expected[at] } }, { count: expected.length, firstDifference: undefined });
}

const line = (i: number) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(40)}`;

function writeLines(w: ContainerLogWriter, from: number, to: number, stream: 'stdout' | 'stderr' = 'stdout'): void {
  // several lines per chunk, chunks cut in the middle of lines, as a pipe delivers them
  const text = Buffer.from(Array.from({ length: to - from }, (_, k) => `${line(from + k)}\n`).join(''));
  for (let i = 0; i < text.length; i += 1000) w.write(stream, text.subarray(i, i + 1000));
}

test('the start of a line waits a moment for its end, then shows as a piece; the line reads whole', async () => {
  const file = logFile();
  const w = new ContainerLogWriter(file, { maxSize: 1 << 20, maxFiles: 2 });
  w.write('stdout', Buffer.from('done\nprompt> '));
  assert.equal(await read(file), 'done\n', 'not yet');
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(await read(file), 'done\nprompt> ');
  w.write('stdout', Buffer.from('yes\n'));
  assert.equal(await read(file), 'done\nprompt> yes\n');
  assert.equal(await read(file, { tailLines: 1 }), 'prompt> yes\n');
  w.close();
});

test('quantities and flags as the kubelet takes them', () => {
  assert.equal(parseByteQuantity('64Ki', 'f'), 65536);
  assert.equal(parseByteQuantity('10Mi', 'f'), 10 * 1024 * 1024);
  assert.equal(parseByteQuantity('1G', 'f'), 1e9);
  assert.equal(parseByteQuantity('70000', 'f'), 70000);
  assert.throws(() => parseByteQuantity('10MB', '--container-log-max-size'), /--container-log-max-size: "10MB" is not a quantity/);
  assert.deepEqual(logRotationOf({}), { maxSize: 10 * 1024 * 1024, maxFiles: 5 });
  assert.deepEqual(logRotationOf({ maxSize: '64Ki', maxFiles: '2' }), { maxSize: 65536, maxFiles: 2 });
  assert.throws(() => logRotationOf({ maxFiles: '1' }), /--container-log-max-files: "1" must be an integer of at least 2/);
  assert.throws(() => logRotationOf({ maxSize: '1Ki' }), /below the minimum of 32Ki/);
});

test('each line is one CRI entry with a strictly growing timestamp; output reads back byte for byte', async () => {
  const file = logFile();
  const w = new ContainerLogWriter(file, { maxSize: 1 << 20, maxFiles: 2 });
  w.write('stdout', Buffer.from('hello\nwor'));
  w.write('stderr', Buffer.from('oops\n'));
  w.write('stdout', Buffer.from('ld\n\nno newline'));
  w.close();
  const entries = readFileSync(file, 'utf8').split('\n');
  assert.equal(entries.pop(), '');
  assert.match(entries[0]!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z stdout F hello$/);
  assert.deepEqual(entries.map((e) => e.slice(31)), ['stdout F hello', 'stderr F oops', 'stdout F world', 'stdout F ', 'stdout P no newline']);
  const stamps = entries.map((e) => e.slice(0, 30));
  assert.deepEqual([...stamps].sort(), stamps);
  assert.equal(new Set(stamps).size, stamps.length);
  assert.equal(await read(file), 'hello\noops\nworld\n\nno newline');
  const withTs = await read(file, { timestamps: true, tailLines: 2 });
  assert.equal(withTs, `${stamps[3]} \n${stamps[4]} no newline`);
});

test('a line longer than an entry holds is written in pieces and read back whole', async () => {
  const file = logFile();
  const w = new ContainerLogWriter(file, { maxSize: 1 << 20, maxFiles: 2 });
  const long = 'y'.repeat(MAX_ENTRY_MESSAGE * 2 + 5);
  w.write('stdout', Buffer.from(long.slice(0, 20000)));
  w.write('stdout', Buffer.from(`${long.slice(20000)}\nshort\n`));
  w.close();
  const tags = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((e) => parseEntry(Buffer.from(e)).partial);
  assert.deepEqual(tags, [true, true, false, false]);
  assert.equal(await read(file), `${long}\nshort\n`);
  assert.equal(await read(file, { tailLines: 2 }), `${long}\nshort\n`);
  assert.equal(await read(file, { tailLines: 1 }), 'short\n');
});

test('rotation keeps at most max-files files within max-size each, every file ending at a line; tail reads across them', async () => {
  const file = logFile();
  const rotation = { maxSize: 32 * 1024, maxFiles: 3 };
  const w = new ContainerLogWriter(file, rotation);
  writeLines(w, 0, 5000);
  const files = runFiles(file);
  assert.equal(files.length, 3);
  assert.deepEqual(files.map((f) => f.seq), [files[0]!.seq, files[0]!.seq! + 1, undefined]);
  let total = 0;
  for (const f of files) {
    const size = statSync(f.path).size;
    total += size;
    assert.ok(size <= rotation.maxSize, `${f.path}: ${size} bytes`);
    assert.equal(readFileSync(f.path).at(-1), 0x0a, `${f.path} ends with a whole line`);
  }
  assert.ok(total <= rotation.maxSize * rotation.maxFiles);
  // what is kept is an unbroken run of the last lines
  const kept = await read(file);
  const first = Number(kept.split(' ', 2)[1]);
  sameLines(kept, Array.from({ length: 5000 - first }, (_, k) => line(first + k)));
  assert.equal(await read(file, { tailLines: 3 }), `${line(4997)}\n${line(4998)}\n${line(4999)}\n`);
  // more lines than the newest file holds: the tail starts in a rotated one
  const newest = readFileSync(file, 'utf8').split('\n').length - 1;
  const n = newest + 10;
  sameLines(await read(file, { tailLines: n }), Array.from({ length: n }, (_, k) => line(5000 - n + k)));
  assert.equal(await read(file, { tailLines: 0 }), '');
  assert.equal(await read(file, { tailLines: 2, limitBytes: 10 }), line(4998).slice(0, 10));
  w.close();
});

test('since reads only lines at or after the time, skipping older files; legacy lines without a timestamp read as they are', async () => {
  const file = logFile();
  const at = (s: number) => `2026-12-07T15:00:${String(s).padStart(2, '0')}.000000000Z`;
  writeFileSync(`${file}.1`, `${entryHeader(at(1), 'stdout', false)}one\n${entryHeader(at(2), 'stdout', false)}two\n`);
  writeFileSync(file, `${entryHeader(at(3), 'stderr', false)}three\n${entryHeader(at(4), 'stdout', true)}fo${'\n'}${entryHeader(at(5), 'stdout', false)}ur\n`);
  assert.equal(await read(file), 'one\ntwo\nthree\nfour\n');
  assert.equal(await read(file, { since: at(2) }), 'two\nthree\nfour\n');
  assert.equal(await read(file, { since: at(3) }), 'three\nfour\n');
  assert.equal(await read(file, { since: '2026-12-07T15:00:03.500000000Z' }), 'four\n');
  assert.equal(await read(file, { since: at(9) }), '');
  assert.equal(await read(file, { tailLines: 1, timestamps: true }), `${at(4)} four\n`);
  const legacy = logFile();
  writeFileSync(legacy, 'plain\nold log\nno end');
  assert.equal(await read(legacy), 'plain\nold log\nno end');
  assert.equal(await read(legacy, { tailLines: 2 }), 'old log\nno end');
});

test('since within one large file starts at the first line at or after it', async () => {
  const file = logFile();
  const w = new ContainerLogWriter(file, { maxSize: 1 << 30, maxFiles: 2 });
  writeLines(w, 0, 6000);
  w.close();
  const stamps = readFileSync(file, 'latin1').split('\n').slice(0, -1).map((e) => e.slice(0, 30));
  for (const k of [0, 1, 2500, 5999]) sameLines(await read(file, { since: stamps[k]! }), Array.from({ length: 6000 - k }, (_, i) => line(k + i)));
  assert.equal(await read(file, { since: '2999-01-01T00:00:00.000000000Z' }), '');
});

test('a new run keeps the last one as the previous run', async () => {
  const file = logFile();
  let w = new ContainerLogWriter(file, { maxSize: 32 * 1024, maxFiles: 2 });
  writeLines(w, 0, 1000);
  w.close();
  retireRun(file);
  w = new ContainerLogWriter(file, { maxSize: 32 * 1024, maxFiles: 2 });
  w.write('stdout', Buffer.from('second run\n'));
  assert.equal(await read(file), 'second run\n');
  assert.equal(await read(file, { previous: true, tailLines: 1 }), `${line(999)}\n`);
  w.close();
  retireRun(file);
  assert.equal(await read(file, { previous: true }), 'second run\n');
  assert.deepEqual(readdirSync(join(file, '..')).sort(), ['app.previous.log']);
});

test('follow streams across rotations without losing or repeating a line, also when a burst removes files it has not read', async () => {
  const file = logFile();
  const w = new ContainerLogWriter(file, { maxSize: 32 * 1024, maxFiles: 2 });
  writeLines(w, 0, 10);
  const abort = new AbortController();
  const s: Readable = await readContainerLog(file, { follow: true, tailLines: 2 }, abort.signal);
  let text = '';
  s.on('data', (c: Buffer) => {
    text += String(c);
  });
  // bursts of about half a file each, with time for the reader in between: each burst rotates at most once
  let next = 10;
  // first a burst that rotates four times at once, removing files the follower has not read yet
  await new Promise((r) => setTimeout(r, 150));
  writeLines(w, next, next + 3000);
  next += 3000;
  for (let burst = 0; burst < 12; burst++) {
    writeLines(w, next, next + 250);
    next += 250;
    await new Promise((r) => setTimeout(r, 150));
  }
  const deadline = Date.now() + 5000;
  while (!text.endsWith(`${line(next - 1)}\n`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  w.close();
  assert.ok(runFiles(file)[0]!.seq! >= 4, 'it rotated several times');
  sameLines(text, Array.from({ length: next - 8 }, (_, k) => line(8 + k)));
});
