/**
 * Inbound acceptance across a plaintext ↔ mTLS switch, on real sockets: under plaintext an HTTP
 * listener still serves a client that already speaks mTLS (asserting no identity, as for
 * plaintext), a TCP listener does not sniff (a server-first protocol still greets); under mTLS,
 * plaintext is admitted only while the sidecar's admitPlaintext says so (the switch window), and
 * refused after it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createRootCa, createWorkloadKeyAndCsr, parseServiceIdentity, signWorkloadCsr, type CertificateAuthority } from '../identity/index.js';
import { InboundTls, acceptInbound, type InboundSecurity } from './engine/mtls.js';
import { SidecarLog } from './observability/log.js';

async function workloadTls(ca: CertificateAuthority, identity: string): Promise<{ key: string; cert: string }> {
  const { csrPem, privateKeyPem } = await createWorkloadKeyAndCsr(parseServiceIdentity(identity));
  const issued = await signWorkloadCsr(ca, csrPem, { identity: parseServiceIdentity(identity), ttlMs: 3600_000 });
  return { key: privateKeyPem.reveal(), cert: issued.chainPem };
}

describe('inbound acceptance while the mesh switches between plaintext and mTLS', () => {
  const log = new SidecarLog('error');
  let ca: CertificateAuthority;
  let client: { key: string; cert: string };
  let terminator: InboundTls;
  const state = { strict: false, window: false };
  const security: InboundSecurity = {
    enabled: () => state.strict,
    terminator: () => terminator,
    admitPlaintext: () => state.window,
  };
  const servers: Server[] = [];

  /** A listener answering `<tls|plain> <identity|->` to the first line it reads (HTTP-like: the client speaks first). */
  const clientFirst = async (): Promise<number> => {
    const s = createServer((raw) => acceptInbound(raw, security, log, (sock, identity) => {
      sock.once('data', () => sock.end(`${sock === raw ? 'plain' : 'tls'} ${identity ?? '-'}\n`));
    }, true));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };

  const read = (s: Socket): Promise<string> => new Promise((resolve) => {
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(out));
  });
  const plain = (port: number): Promise<string> => {
    const s = netConnect(port, '127.0.0.1', () => s.write('hello\n'));
    return read(s);
  };
  const mtls = (port: number): Promise<string> => {
    const s = tlsConnect({ port, host: '127.0.0.1', ...client, ca: [ca.certificatePem], checkServerIdentity: () => undefined }, () => s.write('hello\n'));
    return read(s);
  };

  before(async () => {
    ca = await createRootCa({ meshName: 'test', keyAlgorithm: 'ECDSA-P256' });
    client = await workloadTls(ca, 'client.demo');
    terminator = new InboundTls({ ...(await workloadTls(ca, 'server.demo')), ca: [ca.certificatePem], minVersion: 'TLSv1.2' }, log);
  });
  after(() => {
    for (const s of servers) s.close();
  });

  it('plaintext mode: plaintext and an early mTLS client are both served, neither with an identity', async () => {
    state.strict = false;
    const port = await clientFirst();
    assert.equal(await plain(port), 'plain -\n');
    assert.equal(await mtls(port), 'tls -\n');
  });

  it('plaintext mode, TCP listener: no sniffing, so a server that speaks first still greets', async () => {
    state.strict = false;
    const s = createServer((raw) => acceptInbound(raw, security, log, (sock) => sock.end('220 greeting\n')));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const got = await read(netConnect((s.address() as AddressInfo).port, '127.0.0.1'));
    assert.equal(got, '220 greeting\n');
  });

  it('mTLS mode: plaintext admitted during the switch window only; mTLS carries the identity', async () => {
    state.strict = true;
    const port = await clientFirst();
    state.window = true;
    assert.equal(await plain(port), 'plain -\n');
    state.window = false;
    assert.equal(await plain(port), '', 'refused: closed without an answer');
    assert.equal(await mtls(port), 'tls client.demo\n');
  });
});
