import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifySilent, classifyTunnel } from './classify.js';

describe('what a CONNECT tunnel carries', () => {
  it('is HTTP when a request line could start: a letter first, after any empty lines, in any case', () => {
    for (const first of ['GET / HTTP/1.1\r\n', 'G', '\r\n\r\nPOST /x HTTP/1.1', 'get / HTTP/1.1', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'BREW /pot HTTP/1.1'])
      assert.equal(classifyTunnel(Buffer.from(first, 'latin1')), 'http', JSON.stringify(first));
  });

  it('is TCP for a TLS ClientHello and binary or symbol-first protocols', () => {
    assert.equal(classifyTunnel(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])), 'tcp');
    assert.equal(classifyTunnel(Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f])), 'tcp', 'a Postgres SSLRequest');
    assert.equal(classifyTunnel(Buffer.from('*1\r\n$4\r\nPING\r\n')), 'tcp', 'Redis RESP');
  });

  it('waits while only empty lines arrived; then they are HTTP, and silence is TCP (the server speaks first)', () => {
    assert.equal(classifyTunnel(Buffer.alloc(0)), undefined);
    assert.equal(classifyTunnel(Buffer.from('\r\n\r\n')), undefined);
    assert.equal(classifyTunnel(Buffer.from('\r\n'.repeat(3000))), 'http', 'too many empty lines: the engine judges them');
    assert.equal(classifySilent(Buffer.alloc(0)), 'tcp');
    assert.equal(classifySilent(Buffer.from('\r\n')), 'http');
  });
});
