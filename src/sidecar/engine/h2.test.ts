/**
 * h2c on the engine's listener beside HTTP/1.1 (engine/h2.ts): an HTTP/2 request runs the same chain
 * with the same normalized path as an HTTP/1.1 one, goes upstream as HTTP/1.1 when the chain's pool
 * speaks it, and a request whose Host contradicts its :authority is refused with nothing upstream.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { startEngine, type EngineUnderTest } from '../test-support/engine-harness.js';
import { startsWithH2Preface } from './h2-sniff.js';

describe('engine: h2c beside HTTP/1.1 on one listener', () => {
  let e: EngineUnderTest;
  let session: ClientHttp2Session;
  before(async () => {
    e = await startEngine(false);
    session = connect(`http://127.0.0.1:${e.port}`);
    session.on('error', () => undefined);
  });
  after(async () => {
    session.close();
    await e.close();
  });
  beforeEach(() => e.reset());

  const h2 = (headers: OutgoingHttpHeaders, body?: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = session.request(headers, { endStream: body === undefined });
      let text = '';
      let status = 0;
      req.setEncoding('utf8');
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (d: string) => (text += d));
      req.on('end', () => resolve({ status, text }));
      req.on('error', reject);
      if (body !== undefined) req.end(body);
    });

  it('a GET over h2c is routed and forwarded (as HTTP/1.1 to this upstream), Host from :authority', async () => {
    const r = await h2({ ':method': 'GET', ':path': '/x?q=1', ':authority': 'svc.demo' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(e.policySaw, ['/x?q=1']);
    assert.equal(e.upstream.seen[0]!.headers.host, 'svc.demo');
  });

  it('a streamed request body reaches the upstream whole', async () => {
    const r = await h2({ ':method': 'POST', ':path': '/upload', ':authority': 'svc.demo', 'content-type': 'text/plain' }, 'x'.repeat(100_000));
    assert.equal(r.status, 200, r.text);
    assert.equal(e.upstream.seen[0]!.body.length, 100_000);
  });

  it('the policy sees the normalized path: /%61dmin is /admin and is denied, nothing upstream', async () => {
    const r = await h2({ ':method': 'GET', ':path': '/%61dmin', ':authority': 'svc.demo' });
    assert.equal(r.status, 403);
    assert.deepEqual(e.policySaw, ['/admin']);
    assert.equal(e.upstream.seen.length, 0);
  });

  it('a Host contradicting :authority is refused with 400 before the chain', async () => {
    const r = await h2({ ':method': 'GET', ':path': '/x', ':authority': 'svc.demo', host: 'admin.demo' });
    assert.equal(r.status, 400);
    assert.equal(e.policySaw.length, 0);
    assert.equal(e.upstream.bytes, 0);
  });

  it('sniffs only the real preface', () => {
    assert.equal(startsWithH2Preface(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), true);
    assert.equal(startsWithH2Preface(Buffer.from('PRI * HT')), true);
    assert.equal(startsWithH2Preface(Buffer.from('PRI / HTTP/1.1\r\n')), false);
    assert.equal(startsWithH2Preface(Buffer.from('GET / HTTP/1.1\r\n')), false);
    assert.equal(startsWithH2Preface(Buffer.from('PR')), false);
  });
});
