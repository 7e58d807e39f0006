/** Reading a whole request body in the apps Tessera ships (httpbin, fortio), with a size bound. */
import type { IncomingMessage } from 'node:http';

/** The whole body (chunked or not), or undefined when it exceeds `maxBytes` (the rest is drained, not kept). */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= maxBytes ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}
