/**
 * gRPC through the mesh with real @grpc/grpc-js clients and servers: the client speaks h2c to its
 * sidecar's outbound proxy, the sidecars speak HTTP/2 to each other, and the server sidecar speaks
 * h2c to the app because its Service port is named `grpc`. Unary, server streaming, bidi streaming,
 * a deadline that cancels the call at the app, and refusals by AuthorizationPolicy and
 * RequestAuthentication answered as gRPC statuses; grpc-status in the access log and metrics; with
 * mTLS on, plugins run on the HTTP/2 requests too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { Resource } from '../api/types.js';
import { makeToken, publicJwk, rsaPair } from '../authn/jwt/test-support.js';
import { service } from '../snapshot/testdata/builders.js';
import { startMesh, type Mesh } from './test-support/mesh.js';
import { send, until } from './test-support/net.js';
import { NS, waitVersion } from './test-support/world.js';

const id = (b: Buffer): Buffer => b;
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Greeter/${name}`,
  requestStream,
  responseStream,
  requestSerialize: id,
  requestDeserialize: id,
  responseSerialize: id,
  responseDeserialize: id,
});
const GREETER = {
  Echo: method('Echo', false, false),
  Count: method('Count', false, true),
  Chat: method('Chat', true, true),
  Slow: method('Slow', false, false),
  Forbidden: method('Forbidden', false, false),
  Secret: method('Secret', false, false),
} satisfies grpc.ServiceDefinition;
/** grpc.health.v1.Health/Check, generic: the app answers HealthCheckResponse{status: SERVING} (protobuf 08 01) */
const HEALTH = {
  Check: { ...method('Check', false, false), path: '/grpc.health.v1.Health/Check' },
} satisfies grpc.ServiceDefinition;
const SERVING = Buffer.from([0x08, 0x01]);

const GRPC_PORT = 50051;
const API = 'security.istio.io/v1beta1';
const selector = { matchLabels: { app: 'echo' } };
const ISS = 'https://issuer.grpc.example';

interface Reply {
  value: Buffer;
  trailers: grpc.Metadata | undefined;
}

let mesh: Mesh;
let server: grpc.Server;
let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
/** what the app saw: metadata of the last Echo, and Slow calls the client's deadline cancelled */
const seen = { echoMetadata: undefined as grpc.Metadata | undefined, slowCancelled: 0, forbiddenRan: 0 };
const key = rsaPair();

function unary(name: keyof typeof GREETER, payload: string, opts: { deadlineMs?: number; metadata?: grpc.Metadata } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // settles once both the callback and the status (carrying the trailers) came: the callback runs first
    let result: { err: grpc.ServiceError | null; value: Buffer } | undefined;
    const options: grpc.CallOptions = { deadline: Date.now() + (opts.deadlineMs ?? 10_000) };
    const call = (client[name] as (...a: unknown[]) => grpc.ClientUnaryCall)(
      Buffer.from(payload),
      opts.metadata ?? new grpc.Metadata(),
      options,
      (err: grpc.ServiceError | null, value: Buffer) => (result = { err, value }),
    );
    call.on('status', (s: grpc.StatusObject) => {
      if (!result) reject(new Error('status before the callback'));
      else if (result.err) reject(result.err);
      else resolve({ value: result.value, trailers: s.metadata });
    });
  });
}

async function rejected(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  assert.fail('the call succeeded');
}

for (const mtls of [false, true]) describe(`gRPC through two sidecars (${mtls ? 'h2 over mTLS with ALPN' : 'h2c, mTLS off'} between them)`, () => {
  before(async () => {
    seen.forbiddenRan = 0;
    // the mTLS mesh also runs plugins on both sides (test-support/world.ts PLUGIN_SCRIPTS)
    mesh = await startMesh({ mtls, plugins: mtls });
    server = new grpc.Server();
    server.addService(GREETER, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        seen.echoMetadata = call.metadata;
        const trailer = new grpc.Metadata();
        trailer.set('x-app-trailer', 'kept');
        cb(null, Buffer.from(`echo:${call.request.toString()}`), trailer);
      },
      Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const n = Number(call.request.toString());
        for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
        call.end();
      },
      Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (b: Buffer) => call.write(Buffer.from(`re:${b.toString()}`)));
        call.on('end', () => call.end());
      },
      Slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const t = setTimeout(() => cb(null, Buffer.from('late')), 3000);
        call.on('cancelled', () => {
          clearTimeout(t);
          seen.slowCancelled++;
        });
      },
      Forbidden: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        seen.forbiddenRan++;
        cb(null, Buffer.from('should not run'));
      },
      Secret: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from('secret')),
    });
    server.addService(HEALTH, {
      Check: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, SERVING),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`${mesh.a.echoA.localIP}:${GRPC_PORT}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    mesh.tracker.onClose(() => new Promise<void>((r) => server.tryShutdown(() => r())));

    const jwks = JSON.stringify({ keys: [publicJwk(key, { kid: 'k1', alg: 'RS256', use: 'sig' })] });
    const extra: Resource[] = [
      // the port name says the app speaks gRPC (HTTP/2 in cleartext)
      service(NS, 'greeter', [{ name: 'grpc', port: GRPC_PORT, targetPort: GRPC_PORT }], { member: 'a' }),
      { apiVersion: API, kind: 'AuthorizationPolicy', metadata: { name: 'no-forbidden', namespace: NS }, spec: { selector, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/test.Greeter/Forbidden'] } }] }] } } as Resource,
      { apiVersion: API, kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: NS }, spec: { selector, jwtRules: [{ issuer: ISS, jwks }] } } as Resource,
      {
        apiVersion: API,
        kind: 'AuthorizationPolicy',
        metadata: { name: 'secret-needs-jwt', namespace: NS },
        spec: {
          selector,
          rules: [
            { from: [{ source: { requestPrincipals: ['*'] } }], to: [{ operation: { paths: ['/test.Greeter/Secret'] } }] },
            { to: [{ operation: { notPaths: ['/test.Greeter/Secret'] } }] },
          ],
        },
      } as Resource,
    ];
    const versions = await mesh.publish([...mesh.resources, ...extra]);
    await waitVersion(mesh.echoA, versions.echoA);
    await waitVersion(mesh.client, versions.client);
    const Client = grpc.makeGenericClientConstructor(GREETER, 'Greeter');
    client = new Client(`${mesh.client.outbound.host}:${mesh.client.outbound.port}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': `greeter.${NS}:${GRPC_PORT}`,
      'grpc.enable_http_proxy': 0,
    }) as unknown as typeof client;
    mesh.tracker.onClose(() => client.close());
  });
  after(async () => {
    await mesh?.close();
  });

  it('unary: the reply, the app trailer and metadata carried both ways', async () => {
    const md = new grpc.Metadata();
    md.set('x-caller', 'test');
    const r = await unary('Echo', 'hello', { metadata: md });
    assert.equal(r.value.toString(), 'echo:hello');
    assert.deepEqual(r.trailers?.get('x-app-trailer'), ['kept']);
    assert.deepEqual(seen.echoMetadata?.get('x-caller'), ['test']);
    if (mtls) {
      // the client pod's outbound plugin chain ran on the HTTP/2 request, with greeter's config
      assert.deepEqual(seen.echoMetadata?.get('x-tagged'), ['yes']);
      assert.deepEqual(seen.echoMetadata?.get('x-plugin-service'), ['greeter.demo']);
    }
  });

  it('server streaming: every message in order', async () => {
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = (client['Count'] as (...a: unknown[]) => grpc.ClientReadableStream<Buffer>)(Buffer.from('50'), { deadline: Date.now() + 10_000 });
      call.on('data', (b: Buffer) => got.push(b.toString()));
      call.on('error', reject);
      call.on('end', resolve);
    });
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => String(i + 1)));
  });

  it('bidi streaming: each message answered before the client sends the next', async () => {
    const call = (client['Chat'] as (...a: unknown[]) => grpc.ClientDuplexStream<Buffer, Buffer>)({ deadline: Date.now() + 10_000 });
    const replies: string[] = [];
    let waiting: ((s: string) => void) | undefined;
    call.on('data', (b: Buffer) => {
      replies.push(b.toString());
      waiting?.(b.toString());
    });
    const ended = new Promise<void>((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    for (const word of ['one', 'two', 'three']) {
      const reply = new Promise<string>((r) => (waiting = r));
      call.write(Buffer.from(word));
      // the answer arrives while the request stream is still open: nothing is buffered whole
      assert.equal(await reply, `re:${word}`);
    }
    call.end();
    await ended;
    assert.deepEqual(replies, ['re:one', 're:two', 're:three']);
  });

  it('deadline exceeded: DEADLINE_EXCEEDED at the client, and the app sees the call cancelled', async () => {
    const before = seen.slowCancelled;
    const err = await rejected(unary('Slow', 'x', { deadlineMs: 300 }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED, err.message);
    await until(() => seen.slowCancelled > before, 'the app to see the call cancelled through both sidecars');
  });

  it('a call an AuthorizationPolicy denies: PERMISSION_DENIED with the reason, never reaching the app', async () => {
    const err = await rejected(unary('Forbidden', 'x'));
    assert.equal(err.code, grpc.status.PERMISSION_DENIED, err.message);
    assert.match(err.details, /no-forbidden/);
    assert.equal(seen.forbiddenRan, 0);
  });

  it('a call without the JWT a policy requires, or with an invalid one: UNAUTHENTICATED', async () => {
    const none = await rejected(unary('Secret', 'x'));
    assert.equal(none.code, grpc.status.UNAUTHENTICATED, none.message);
    const forged = new grpc.Metadata();
    forged.set('authorization', `Bearer ${makeToken({ alg: 'RS256', kid: 'k1' }, { iss: ISS, sub: 'eve', exp: Math.floor(Date.now() / 1000) + 300 }, rsaPair().privateKey)}`);
    const bad = await rejected(unary('Secret', 'x', { metadata: forged }));
    assert.equal(bad.code, grpc.status.UNAUTHENTICATED, bad.message);
    const good = new grpc.Metadata();
    good.set('authorization', `Bearer ${makeToken({ alg: 'RS256', kid: 'k1' }, { iss: ISS, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 }, key.privateKey)}`);
    assert.equal((await unary('Secret', 'x', { metadata: good })).value.toString(), 'secret');
  });

  it('grpc-status in the access log and the metrics of both sidecars', async () => {
    await unary('Echo', 'logged');
    const line = await until(
      () => mesh.echoA.access.find((l) => l['path'] === '/test.Greeter/Echo' && l['grpcStatus'] === '0'),
      'an inbound access line with grpcStatus 0',
    );
    assert.equal(line['protocol'], 'HTTP/2');
    // with mTLS the caller is the identity its certificate proves, as for HTTP/1.1
    if (mtls) assert.equal(line['sourceService'], 'client.demo');
    await until(() => mesh.echoA.access.find((l) => l['path'] === '/test.Greeter/Forbidden' && l['grpcStatus'] === '7'), 'an access line with grpcStatus 7');
    await until(() => mesh.client.access.find((l) => l['path'] === '/test.Greeter/Echo' && l['grpcStatus'] === '0' && l['direction'] === 'outbound'), 'an outbound access line');
    const text = await mesh.echoA.sidecar.metrics.text();
    assert.match(text, /tessera_grpc_calls_total\{[^}]*direction="inbound"[^}]*grpc_status="0"\} [1-9]/);
    assert.match(text, /tessera_grpc_calls_total\{[^}]*grpc_status="7"\} [1-9]/);
  });

  it('gRPC health checking (grpc.health.v1) passes through to the app', async () => {
    const Health = grpc.makeGenericClientConstructor(HEALTH, 'Health');
    const health = new Health(`${mesh.client.outbound.host}:${mesh.client.outbound.port}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': `greeter.${NS}:${GRPC_PORT}`,
      'grpc.enable_http_proxy': 0,
    });
    try {
      const reply = await new Promise<Buffer>((resolve, reject) =>
        (health as unknown as Record<string, (...a: unknown[]) => void>)['Check']!(Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (err: Error | null, v: Buffer) => (err ? reject(err) : resolve(v))),
      );
      assert.deepEqual(reply, SERVING);
    } finally {
      health.close();
    }
  });

  it('an HTTP/1.1 request to the gRPC port reaches the app as HTTP/2 (trailers are lost on the HTTP/1.1 hop)', async () => {
    const payload = Buffer.from('framed');
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, payload.length]), payload]);
    const r = await send(mesh.client.outbound, 'POST', `http://greeter.${NS}:${GRPC_PORT}/test.Greeter/Echo`, {
      headers: { 'content-type': 'application/grpc', te: 'trailers' },
      body: frame,
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.subarray(5).toString(), 'echo:framed');
  });

  it('HTTP/1.1 on the same listeners still works beside HTTP/2', async () => {
    const r = await send(mesh.client.outbound, 'GET', 'http://echo.demo/plain');
    assert.equal(r.status, 200, r.text);
  });
});
