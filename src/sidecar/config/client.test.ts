/** The delivery client's acknowledgements: a failed report is retried, a superseded one is not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resetControlPlaneChannels } from './control-plane-fetch.js';
import { StreamClient } from './client.js';
import { SidecarLog } from '../observability/log.js';

const UUID = '11111111-2222-3333-4444-555555555555';

async function deliveryServer(t: { after(fn: () => void): void }, ackStatuses: number[]): Promise<{ url: string; acks: { version: string; status: number }[]; stream: () => ServerResponse | undefined }> {
  const acks: { version: string; status: number }[] = [];
  let stream: ServerResponse | undefined;
  const server = createServer((req, res) => {
    if (req.url === `/v1/proxies/${UUID}/stream`) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`id: v1\nevent: snapshot\ndata: ${JSON.stringify({ version: 'v1', snapshot: {} })}\n\n`);
      stream = res;
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = ackStatuses.shift() ?? 200;
      acks.push({ version: (JSON.parse(body) as { version: string }).version, status });
      res.writeHead(status).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, acks, stream: () => stream };
}

async function waitFor(done: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function client(t: { after(fn: () => void): void }, url: string): StreamClient {
  resetControlPlaneChannels();
  let applied: string | undefined;
  const c = new StreamClient({
    controllerUrl: url,
    uuid: UUID,
    token: 'test-token',
    log: new SidecarLog('error', 2),
    currentVersion: () => applied,
    apply: async (version) => {
      applied = version;
      return undefined;
    },
  });
  t.after(() => c.stop());
  c.start();
  return c;
}

test('an acknowledgement the controller could not take (503) is sent again until it is', async (t) => {
  const server = await deliveryServer(t, [503, 503]);
  client(t, server.url);
  await waitFor(() => server.acks.some((a) => a.status === 200), 'an accepted ACK');
  assert.deepEqual(server.acks.map((a) => `${a.version} ${a.status}`), ['v1 503', 'v1 503', 'v1 200']);
});

test('a refusal (4xx) is not retried, and a newer version ends the retries of an older one', async (t) => {
  const refused = await deliveryServer(t, [403]);
  client(t, refused.url);
  await waitFor(() => refused.acks.length === 1, 'the refused ACK');
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(refused.acks.length, 1, 'a 403 is final');

  const server = await deliveryServer(t, [503]);
  client(t, server.url);
  await waitFor(() => server.acks.length === 1 && server.stream() !== undefined, 'the first, failed ACK');
  server.stream()!.write(`id: v2\nevent: snapshot\ndata: ${JSON.stringify({ version: 'v2', snapshot: {} })}\n\n`);
  await waitFor(() => server.acks.some((a) => a.version === 'v2'), 'the ACK of v2');
  await new Promise((r) => setTimeout(r, 1200));
  assert.deepEqual(server.acks.map((a) => `${a.version} ${a.status}`), ['v1 503', 'v2 200'], 'v1 is not reported again once v2 arrived');
});
