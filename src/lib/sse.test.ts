/** The SSE reader: events split across chunks, comments, multi-line data, named events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEventStream, type ServerSentEvent } from './sse.js';

async function* chunks(parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield new TextEncoder().encode(p);
}

test('reads named events split across chunks, skipping comments', async () => {
  const seen: ServerSentEvent[] = [];
  await readEventStream(chunks([': connected\n\nevent: sync\nda', 'ta: {"a":1}\n\n: ping\n\nid: 7\nevent: snapshot\ndata: line1\ndata: line2\n\n']), (e) => {
    seen.push(e);
  });
  assert.deepEqual(seen, [
    { event: 'sync', data: '{"a":1}' },
    { event: 'snapshot', data: 'line1\nline2' },
  ]);
});
