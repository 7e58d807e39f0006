/**
 * Reads a Server-Sent Events stream (the control plane's watch and the sidecar's snapshot stream
 * both use one): events are separated by a blank line; `event:` names one, `data:` lines carry
 * it, lines starting with `:` are comments (heartbeats).
 */
export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Calls `onEvent` for each event with data, in order, awaiting it; resolves when the stream ends. */
export async function readEventStream(body: AsyncIterable<Uint8Array>, onEvent: (e: ServerSentEvent) => void | Promise<void>): Promise<void> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buf.indexOf('\n\n')) >= 0) {
      const raw = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      const e = parseEvent(raw);
      if (e) await onEvent(e);
    }
  }
}

function parseEvent(raw: string): ServerSentEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of raw.split('\n')) {
    if (line.startsWith(':')) continue;
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return data.length > 0 ? { event, data: data.join('\n') } : undefined;
}
