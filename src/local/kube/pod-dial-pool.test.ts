import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Agent, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { isStaleReuse, PodDialPool } from './pod-dial-pool.js';

async function listening(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

/** a dial that opens a real TCP connection and counts how often it was asked */
function countingDial(port: number): { dial: () => Promise<Socket>; count: () => number } {
  let n = 0;
  return {
    dial: () => {
      n++;
      return new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    },
    count: () => n,
  };
}

function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GETs to one pod and port share one connection; another pod uid or port gets its own', async () => {
  const { server, port } = await listening((req, res) => res.end(`answer ${req.url}`));
  const pool = new PodDialPool();
  try {
    const a = countingDial(port);
    const agent = pool.agentFor('uid-a', '127.0.0.1', port, a.dial);
    const first = await get(agent, port, '/config_dump');
    const second = await get(agent, port, '/stats');
    assert.deepEqual([first, second], [
      { status: 200, body: 'answer /config_dump', reused: false },
      { status: 200, body: 'answer /stats', reused: true },
    ]);
    assert.equal(a.count(), 1);
    assert.equal(pool.agentFor('uid-a', '127.0.0.1', port, a.dial), agent);
    // a pod that took over the address (a new uid) never gets the old pod's connection
    const b = countingDial(port);
    const other = pool.agentFor('uid-b', '127.0.0.1', port, b.dial);
    assert.notEqual(other, agent);
    await get(other, port, '/ready');
    assert.equal(b.count(), 1);
    assert.notEqual(pool.agentFor('uid-a', '127.0.0.1', port + 1, a.dial), agent);
  } finally {
    pool.close();
    server.close();
    server.closeAllConnections();
  }
});

test('a connection the pod closes is not reused, and the pool forgets the target once none is left', async () => {
  const { server, port } = await listening((_req, res) => {
    res.setHeader('connection', 'close');
    res.end('bye');
  });
  const pool = new PodDialPool();
  try {
    const d = countingDial(port);
    const agent = pool.agentFor('uid-a', '127.0.0.1', port, d.dial);
    assert.equal((await get(agent, port, '/')).body, 'bye');
    assert.equal((await get(agent, port, '/')).reused, false);
    assert.equal(d.count(), 2);
    // bounded: the agent is dropped once its last connection's close has run
    for (let i = 0; i < 100 && pool.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(pool.size, 0);
  } finally {
    pool.close();
    server.close();
  }
});

test('a dial that fails fails the request with its reason', async () => {
  const pool = new PodDialPool();
  try {
    const agent = pool.agentFor('uid-a', '127.0.0.1', 1, () => Promise.reject(new Error('pod curl: connecting to 10.0.0.1:15000 failed: refused')));
    await assert.rejects(get(agent, 1, '/'), /connecting to 10\.0\.0\.1:15000 failed: refused/);
  } finally {
    pool.close();
  }
});

test('a request that a kept connection drops unanswered is a stale reuse; one on a new connection is not', async () => {
  // the server closes each connection when its second request arrives, as one closing while idle would
  const seen = new WeakMap<Socket, number>();
  const { server, port } = await listening((req, res) => {
    const n = (seen.get(req.socket) ?? 0) + 1;
    seen.set(req.socket, n);
    if (n === 2) req.socket.destroy();
    else res.end('ok');
  });
  const pool = new PodDialPool();
  const attempt = (agent: Agent): Promise<{ stale: boolean; code: string | undefined }> => new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      reject(new Error(`answered ${res.statusCode}`));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ stale: isStaleReuse(req, false, e), code: e.code }));
    req.end();
  });
  try {
    const agent = pool.agentFor('uid-a', '127.0.0.1', port, countingDial(port).dial);
    await get(agent, port, '/');
    assert.deepEqual(await attempt(agent), { stale: true, code: 'ECONNRESET' });
    // a fresh connection that fails is a real failure, not retried
    const refused = pool.agentFor('uid-b', '127.0.0.1', port, () => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNRESET' })));
    assert.deepEqual(await attempt(refused), { stale: false, code: 'ECONNRESET' });
  } finally {
    pool.close();
    server.close();
    server.closeAllConnections();
  }
});
