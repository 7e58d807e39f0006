import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifySilent, classifyTunnel, judgeAfterSilence } from './classify.js';

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

describe('the first line of a tunnel that began silent', () => {
  const judge = (s: string | Buffer): string => judgeAfterSilence(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);

  it('refuses an HTTP request line, however it is spelled', () => {
    for (const line of ['GET / HTTP/1.1\r\n', '\r\nPOST /x HTTP/1.0\n', 'get\t/a\thttp/1.1\r\n', 'DELETE  /items/1  HTTP/1.1\r\nhost: x\r\n\r\n'])
      assert.equal(judge(line), 'refuse', JSON.stringify(line));
  });

  it('holds what could still become one, and refuses one that grows past 8 KiB', () => {
    for (const part of ['', '\r\n', 'G', 'GET', 'GET ', 'GET /path', 'GET /path HTTP/1.']) assert.equal(judge(part), 'hold', JSON.stringify(part));
    assert.equal(judge(`GET /${'a'.repeat(9000)}`), 'refuse');
  });

  it("passes what a server-speaks-first client says: a command line, a binary handshake, a line without an HTTP version", () => {
    for (const line of ['EHLO client.example\r\n', 'USER alice\r\n', 'a1 LOGIN alice secret\r\n', 'GET /only-a-path\r\n']) assert.equal(judge(line), 'pass', JSON.stringify(line));
    assert.equal(judge(Buffer.from([0x20, 0x00, 0x00, 0x01, 0x85, 0xa6])), 'pass', 'a MySQL handshake response');
    assert.equal(judge('SELECT-1'), 'pass', 'not a method and a blank');
  });
});
