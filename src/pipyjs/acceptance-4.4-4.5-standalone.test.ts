/**
 * Reference §4.4 (ext-auth) and §4.5 (pipy-ok): the seeds' standalone scripts on the runtime, plus
 * the head model's header spelling (§4.1.2) on a path that keeps raw names end to end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { Codebase, Context, Message, NodeHttpTransport, compileScript, decodeHeaders, runStandalone, type Standalone } from './index.js';
import { SEED_000, deploymentPipyScript, seedPluginScript } from './test-support/scripts.js';
import { allocateBlock, Tracker } from '../sidecar/test-support/net.js';
import { rawHeader, recordingApp } from './test-support/sidecar-harness.js';

const TOKEN = '2f1acc6c3a606b082e5eef5e54414ffb';

function get(host: string, port: number, path: string, headers: Record<string, string> = {}, agent?: Agent, method = 'GET', body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, headers, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('standalone scripts', () => {
  const tracker = new Tracker();
  let host: string;
  let extAuth: Standalone;
  let v1: Standalone;
  const access: string[] = [];
  before(async () => {
    const lease = await allocateBlock();
    tracker.onClose(lease.release);
    host = `127.${lease.block}.1.20`;
    extAuth = await runStandalone(deploymentPipyScript({ seed: SEED_000 }, 'ext-auth'), { file: 'ext-auth.js', bindHost: host, access: () => undefined, log: () => undefined });
    v1 = await runStandalone(deploymentPipyScript({ sample: 'plugins-pipy-ok.pipy.yaml' }, 'pipy-ok-v1'), { file: 'pipy-ok.js', bindHost: host, access: (l) => void access.push(l), log: () => undefined });
  });
  after(async () => {
    await extAuth?.close();
    await v1?.close();
    await tracker.closeAll();
  });

  test('4.4.1 ext-auth: any method or path with the valid token → 200, content-length 0', async () => {
    for (const [method, path] of [['GET', '/x'], ['POST', '/a/b?c=1'], ['DELETE', '/']]) {
      const r = await get(host, 8079, path!, { 'x-iam-token': TOKEN }, undefined, method);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], '0');
    }
  });

  test('4.4.2 ext-auth: no token or another value → 401, content-length 0', async () => {
    for (const headers of [{}, { 'x-iam-token': 'nope' }] as Record<string, string>[]) {
      const r = await get(host, 8079, '/get', headers);
      assert.equal(r.status, 401);
      assert.equal(r.headers['content-length'], '0');
    }
  });

  test('4.4.3 ext-auth: each request on a keep-alive connection is decided on its own (per-request context)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await get(host, 8079, '/', { 'x-iam-token': TOKEN }, agent)).status, 200);
      const second = await get(host, 8079, '/', {}, agent);
      assert.equal(second.reused, true);
      assert.equal(second.status, 401);
    } finally {
      agent.destroy();
    }
  });

  test('4.5 pipy-ok: any request → 200, content-length 20, Hi, I am PIPY-OK v1!, also with a body; one access line per request', async () => {
    const before = access.length;
    for (const [method, body] of [['GET', undefined], ['POST', 'some body']] as const) {
      const r = await get(host, 8080, '/anything', {}, undefined, method, body);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], '20');
      assert.equal(r.body, 'Hi, I am PIPY-OK v1!');
    }
    assert.equal(access.length, before + 2);
    assert.match(access.at(-1)!, /"POST \/anything HTTP\/1.1" 200 20/);
  });

  test('4.1.2 header spelling: a client X-IAM-Token overwritten by token-injector goes out as X-IAM-Token: T', async () => {
    const app = await recordingApp(tracker, 'upstream', host, 18081);
    const transport = new NodeHttpTransport(5000, '');
    const cb = new Codebase({ log: () => undefined, transport, idleTimeoutMs: 5000, chainModule: () => undefined });
    const routing = cb.defineNative('modules/outbound-http-routing.js', { 'outbound-http-routing': { __service: null, __cluster: null, __route: null } });
    const injector = cb.load('plugins/token-injector.js', compileScript('plugins/token-injector.js', seedPluginScript(SEED_000, 'token-injector')));
    const upstream = cb.load('modules/upstream.js', compileScript('modules/upstream.js', `pipy().pipeline().muxHTTP().to($=>$.connect('${host}:18081'))`));
    cb.bind();
    const ctx = new Context();
    ctx.slots(routing)['__service'] = { Plugins: { 'token-injector': { AccessToken: 'T' } } };
    const { headers, headerNames } = decodeHeaders(['Host', 'svc', 'X-IAM-Token', 'client', 'User-Agent', 'test']);
    assert.deepEqual(headerNames['x-iam-token'], 'X-IAM-Token');
    const msg = new Message({ protocol: 'HTTP/1.1', headers, headerNames, method: 'GET', path: '/headers' }, '');
    const out = (await cb.runEntry(injector, msg, ctx, cb.link('modules/upstream.js', null))) as Message;
    assert.equal(out.head.status, 200);
    assert.deepEqual(rawHeader(app.requests.at(-1)!, 'x-iam-token'), { name: 'X-IAM-Token', value: 'T' });
    transport.close();
    void upstream;
  });
});
