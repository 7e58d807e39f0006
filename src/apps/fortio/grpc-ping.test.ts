/** The gRPC port over a real h2c connection: health says SERVING, Ping comes back with the server's time. */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { decodePing, encodePing, frame, startGrpcPing, unframe } from './grpc-ping.js';
import type { RunningServer } from './echo-server.js';

describe('fortio gRPC ping (h2c)', () => {
  let server: RunningServer;
  let client: http2.ClientHttp2Session;
  before(async () => {
    server = await startGrpcPing('127.0.0.1', 0, 100e6);
    client = http2.connect(`http://127.0.0.1:${server.address.port}`);
  });
  after(async () => {
    client?.close();
    await server?.close();
  });

  function call(path: string, message: Buffer): Promise<{ body: Buffer; status: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      req.on('response', (h) => { status ??= h['grpc-status'] as string | undefined; });
      req.on('trailers', (t) => { status = t['grpc-status'] as string | undefined; });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ body: Buffer.concat(chunks), status }));
      req.on('error', reject);
      req.setTimeout(10_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
      req.end(frame(message));
    });
  }

  it('grpc.health.v1.Health/Check answers SERVING', async () => {
    const r = await call('/grpc.health.v1.Health/Check', Buffer.alloc(0));
    assert.equal(r.status, '0');
    assert.deepEqual(unframe(r.body), Buffer.from([0x08, 0x01]));
  });

  it('fgrpc.PingServer/Ping echoes seq and payload with the server time, after the (capped) delay', async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const began = Date.now();
    const r = await call('/fgrpc.PingServer/Ping', encodePing({ seq: 7n, ts: 0n, payload: 'hi', delayNanos: 5_000_000_000n }));
    assert.equal(r.status, '0');
    const reply = decodePing(unframe(r.body)!);
    assert.equal(reply.seq, 7n);
    assert.equal(reply.payload, 'hi');
    assert.ok(reply.ts >= before, 'the server time');
    const waited = Date.now() - began;
    assert.ok(waited >= 90 && waited < 4000, `the 5s delay is capped at 100ms: waited ${waited}`);
  });

  it('an unknown method is UNIMPLEMENTED (12)', async () => {
    assert.equal((await call('/x.Y/Z', Buffer.alloc(0))).status, '12');
  });
});
