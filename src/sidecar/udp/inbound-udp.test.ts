/** InboundUdp on loopback: forwards only listed identities' datagrams to the app, relays replies, drops the rest, follows policy updates. */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { SidecarLog } from '../observability/log.js';
import { allocateBlock } from '../test-support/net.js';
import { DropLog } from './drop-log.js';
import { InboundUdp } from './inbound-udp.js';

function bound(address: string, port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind({ address, port }, () => resolve(s));
  });
}

/** Sends `text` from `from` to `to` and resolves with the first reply, or undefined after `ms`. */
function ask(from: Socket, to: { address: string; port: number }, text: string, ms = 400): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      from.off('message', onMessage);
      resolve(undefined);
    }, ms);
    const onMessage = (msg: Buffer): void => {
      clearTimeout(timer);
      from.off('message', onMessage);
      resolve(msg.toString());
    };
    from.on('message', onMessage);
    from.send(text, to.port, to.address);
  });
}

describe('InboundUdp', () => {
  let block: { block: number; release: () => void };
  let ip: (row: number, n: number) => string;
  const sockets: Socket[] = [];
  let udp: InboundUdp;
  let appPort: number;
  before(async () => {
    block = await allocateBlock();
    ip = (row, n) => `127.${block.block}.${row}.${n}`;
    // the app echoes in upper case on the pod's app address; the relay takes the same port on the pod IP
    const app = await bound(ip(70, 1));
    sockets.push(app);
    app.on('message', (msg, r) => app.send(msg.toString().toUpperCase(), r.port, r.address));
    appPort = (app.address() as { port: number }).port;
    udp = new InboundUdp({
      bindAddress: ip(6, 1),
      appAddress: ip(70, 1),
      log: new SidecarLog('error'),
      senderPodIP: (a) => (a === ip(70, 2) ? ip(6, 2) : undefined),
    });
    await udp.update({ UdpAllowed: { [appPort]: ['client.default'] }, IdentityByIP: { [ip(6, 2)]: 'client.default', [ip(6, 3)]: 'other.default' } });
  });
  after(() => {
    udp?.close();
    for (const s of sockets) s.close();
    block?.release();
  });

  const relay = (): { address: string; port: number } => ({ address: ip(6, 1), port: appPort });

  it('forwards a listed identity’s datagram from its pod IP and relays the reply', async () => {
    const client = await bound(ip(6, 2));
    sockets.push(client);
    assert.equal(await ask(client, relay(), 'hello'), 'HELLO');
    assert.deepEqual(udp.list(), [`inbound-udp ${ip(6, 1)}:${appPort}`]);
  });

  it('takes a pod’s private app address for its pod IP', async () => {
    const client = await bound(ip(70, 2));
    sockets.push(client);
    assert.equal(await ask(client, relay(), 'local'), 'LOCAL');
  });

  it('drops an identity not listed and an address without identity', async () => {
    const before = udp.stats.dropped;
    const other = await bound(ip(6, 3));
    const stranger = await bound(ip(6, 9));
    sockets.push(other, stranger);
    assert.equal(await ask(other, relay(), 'x'), undefined);
    assert.equal(await ask(stranger, relay(), 'x'), undefined);
    assert.equal(udp.stats.dropped - before, 2);
  });

  it('a policy update revokes at once, and removing the port closes it', async () => {
    const client = await bound(ip(6, 2));
    sockets.push(client);
    assert.equal(await ask(client, relay(), 'a'), 'A');
    await udp.update({ UdpAllowed: { [appPort]: ['other.default'] }, IdentityByIP: { [ip(6, 2)]: 'client.default' } });
    assert.equal(await ask(client, relay(), 'b'), undefined);
    await udp.update({});
    assert.deepEqual(udp.list(), []);
    // the port is free again: the relay socket is closed
    const probe = await bound(ip(6, 1), appPort);
    probe.close();
  });
});

describe('DropLog', () => {
  it('logs at most N drops per window and reports how many it skipped', () => {
    const lines: Record<string, unknown>[] = [];
    const log = { log: (_l: string, _m: string, f: Record<string, unknown>) => lines.push(f) } as unknown as SidecarLog;
    let t = 0;
    const d = new DropLog(log, 2, 1000, () => t);
    for (let i = 0; i < 5; i++) d.drop('denied', { i });
    assert.equal(lines.length, 2);
    t = 1000;
    d.drop('denied', { i: 5 });
    assert.equal(lines.length, 3);
    assert.equal(lines[2]!['suppressedBefore'], 3);
  });
});
