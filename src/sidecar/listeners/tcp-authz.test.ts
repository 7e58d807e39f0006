/**
 * Istio AuthorizationPolicy on inbound TCP, in process over real mTLS: the inbound TCP listener, the
 * inbound-tcp chain of a snapshot compiled by the real compiler, and a TCP app behind it that counts
 * what reaches it. A refused connection is closed before the app sees a connection or a byte, and is
 * in the metrics, the access log and a warn line (security-rules.md §1 "TCP traffic", §11 rule 3).
 * `connection.sni` comes from the verified handshake on TCP and on HTTP.
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../api/types.js';
import { TrustBundle, createRootCa, createWorkloadKeyAndCsr, parseServiceIdentity, signWorkloadCsr, type CertificateAuthority } from '../../identity/index.js';
import { meshConfig } from '../../snapshot/testdata/builders.js';
import { createHttpEngine } from '../engine/server.js';
import { InboundTls, type InboundSecurity } from '../engine/mtls.js';
import { SidecarLog } from '../observability/log.js';
import { SidecarMetrics } from '../observability/metrics.js';
import { buildRuntime, type Runtime } from '../runtime.js';
import { startEchoApp } from '../test-support/apps.js';
import { allocateBlock, listen, Tracker, until } from '../test-support/net.js';
import { addresses, compileFor, MESH, NS, worldResources, type Addresses, type LogLine } from '../test-support/world.js';
import { UpstreamClient } from '../upstream/index.js';
import { createTcpEngine } from './tcp-engine.js';

interface Credentials {
  key: string;
  cert: string;
}

async function workloadTls(ca: CertificateAuthority, identity: string): Promise<Credentials> {
  const { csrPem, privateKeyPem } = await createWorkloadKeyAndCsr(parseServiceIdentity(identity));
  const issued = await signWorkloadCsr(ca, csrPem, { identity: parseServiceIdentity(identity), ttlMs: 3600_000 });
  return { key: privateKeyPem.reveal(), cert: issued.chainPem };
}

const ap = (name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: 'security.istio.io/v1beta1', kind: 'AuthorizationPolicy', metadata: { name, namespace: NS }, spec });
const SELECT_ECHO = { matchLabels: { app: 'echo' } };
const CLIENT = `cluster.local/ns/${NS}/sa/client`;
const SNI = `tcpecho.${NS}.svc.cluster.local`;
/** what a refused client writes: it must reach neither the app nor any log */
const PAYLOAD = 'payload-that-must-not-leak';

describe('inbound TCP AuthorizationPolicy over mTLS', () => {
  const tracker = new Tracker();
  let a: Addresses;
  let ca: CertificateAuthority;
  const creds: Record<'client' | 'stranger', Credentials> = {} as never;
  let runtime: Runtime | undefined;
  let upstream: UpstreamClient;
  const log = new SidecarLog('error');
  const lines: LogLine[] = [];
  const access: Record<string, unknown>[] = [];
  let metrics: SidecarMetrics;
  /** what reached the TCP app: connections and bytes */
  const app = { connections: 0, received: '' };

  before(async () => {
    const lease = await allocateBlock();
    tracker.onClose(lease.release);
    a = addresses(lease.block);
    ca = await createRootCa({ meshName: 'test', keyAlgorithm: 'ECDSA-P256' });
    const server = await workloadTls(ca, `echo.${NS}`);
    creds.client = await workloadTls(ca, `client.${NS}`);
    creds.stranger = await workloadTls(ca, `stranger.${NS}`);
    log.log = (level, msg, fields) => void lines.push({ level, msg, ...fields });
    log.access = (line) => void access.push(JSON.parse(line) as Record<string, unknown>);
    metrics = new SidecarMetrics({ pod: 'echo-a', namespace: NS });
    upstream = new UpstreamClient({ timeoutMs: 5000 });
    tracker.onClose(() => upstream.close());

    const tcpApp = createServer((s) => {
      app.connections++;
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => (app.received += d.toString()));
      s.write('hello\n');
      s.pipe(s);
    });
    await listen(tracker.server(tcpApp), a.echoA.localIP, 9000);
    await startEchoApp(tracker, 'echo-a', a.echoA.localIP, 8080);

    const tls = new InboundTls({ ...server, ca: TrustBundle.fromPem(ca.certificatePem).pems(), minVersion: 'TLSv1.2' }, log);
    const security: InboundSecurity = { enabled: () => true, terminator: () => tls, admitPlaintext: () => false };
    const tcp = createTcpEngine({
      direction: 'inbound',
      mountPoint: 'inbound-tcp',
      chain: () => runtime?.inboundTcp,
      upstream,
      log,
      target: (s) => ({ host: s.localAddress ?? a.echoA.podIP, port: s.localPort ?? 9000 }),
      security,
    });
    await listen(tracker.server(tcp) as Server, a.echoA.podIP, 9000);
    const http = createHttpEngine({ direction: 'inbound', mountPoint: 'inbound-http', chain: () => runtime?.inboundHttp, proxy: false, upstream, log, timeoutMs: 5000, security });
    await listen(tracker.server(http), a.echoA.podIP, 8080);
  });
  after(() => tracker.closeAll());

  /** Runs echo-a's sidecar under the world plus these policies (and a CUSTOM provider in MeshConfig). */
  async function apply(...policies: Resource[]): Promise<void> {
    const world = worldResources(a).filter((r) => r.kind !== 'MeshConfig');
    const config = meshConfig(
      { sidecar: { sidecarDisabledMTLS: false }, extensionProviders: [{ name: 'ext', envoyExtAuthzHttp: { service: `ext.ext`, port: 7000 } }] },
      MESH,
    );
    const v = await compileFor([...world, config, ...policies], a.echoA);
    runtime = buildRuntime(v.version, v.snapshot, { upstream, log, metrics });
  }

  /** One TCP exchange from `who`'s certificate: what came back before the sidecar or the app closed. */
  function exchange(who: keyof typeof creds, opts: { servername?: string; payload?: string } = {}): Promise<string> {
    return new Promise((resolve) => {
      let got = '';
      const c = tlsConnect({
        // from the client pod's address, as its sidecar would connect
        socket: netConnect({ host: a.echoA.podIP, port: 9000, localAddress: a.client.podIP }),
        ...creds[who],
        ca: [ca.certificatePem],
        // the server's certificate is not under test here
        checkServerIdentity: () => undefined,
        ...(opts.servername ? { servername: opts.servername } : {}),
      });
      c.setEncoding('utf8');
      c.on('secureConnect', () => c.write(opts.payload ?? 'ping'));
      c.on('data', (d: string) => {
        got += d;
        if (got.includes('ping')) c.end();
      });
      c.on('error', () => undefined);
      c.on('close', () => resolve(got));
      c.setTimeout(3000, () => c.destroy());
    });
  }

  /** One HTTPS request to echo-a's inbound HTTP port from the client's certificate. */
  function httpStatus(servername?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: a.echoA.podIP,
          port: 8080,
          path: '/sni',
          headers: { host: `echo.${NS}` },
          ...creds.client,
          ca: [ca.certificatePem],
          checkServerIdentity: () => undefined,
          agent: false,
          ...(servername ? { servername } : {}),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  const denials = () => access.filter((l) => l['protocol'] === 'tcp' && typeof l['denied'] === 'string');

  it('without a policy the connection reaches the app, and its access line says how many bytes went each way', async () => {
    await apply();
    assert.equal(await exchange('client'), 'hello\nping');
    const line = await until(
      () => access.find((l) => l['protocol'] === 'tcp' && l['denied'] === undefined && l['sourceService'] === `client.${NS}`),
      'an access line for the relayed connection',
    );
    assert.equal(line['direction'], 'inbound');
    assert.equal(line['port'], 9000);
    assert.equal(line['upstream'], `${a.echoA.localIP}:9000`);
    assert.equal(line['bytesFromClient'], 'ping'.length);
    assert.equal(line['bytesToClient'], 'hello\nping'.length);
    assert.equal(typeof line['durationMs'], 'number');
    assert.ok(!JSON.stringify(line).includes('ping'), 'bytes are counted, never logged');
  });

  it('ALLOW principals + ports: the named client is let in; another is closed before the app sees a connection or a byte', async () => {
    await apply(ap('tcp-allow', { selector: SELECT_ECHO, action: 'ALLOW', rules: [{ from: [{ source: { principals: [CLIENT] } }], to: [{ operation: { ports: ['9000'] } }] }] }));
    assert.equal(await exchange('client'), 'hello\nping');
    const seen = { ...app };
    const before = denials().length;
    assert.equal(await exchange('stranger', { payload: PAYLOAD }), '', 'closed without data');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual({ ...app }, seen, 'the app saw neither a connection nor a byte');
    const line = await until(() => denials()[before], 'the access line of the refusal');
    assert.equal(line['denied'], 'authorization: no ALLOW policy matched');
    assert.equal(line['sourceService'], `stranger.${NS}`);
    assert.equal(line['port'], 9000);
    assert.equal(line['destination'], `tcpecho.${NS}`);
    const warn = lines.find((l) => l.msg === 'connection denied by authorization policy' && l['source'] === `stranger.${NS}`);
    assert.ok(warn, 'a warn line');
    assert.equal(warn.level, 'warn');
    assert.equal(warn['reason'], 'no ALLOW policy matched');
    const text = await metrics.text();
    assert.match(text, new RegExp(`tessera_tcp_connections_denied_total\\{[^}]*direction="inbound",source="stranger.${NS}",destination="tcpecho.${NS}"\\} 1\\n`));
  });

  it('DENY methods [GET] + ports [9000] refuses everyone on that port, and names the policy', async () => {
    await apply(
      ap('tcp-allow', { selector: SELECT_ECHO, action: 'ALLOW', rules: [{}] }),
      ap('deny-get', { selector: SELECT_ECHO, action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }] }),
    );
    const before = denials().length;
    assert.equal(await exchange('client'), '');
    assert.equal((await until(() => denials()[before], 'access line'))['denied'], `authorization: ${NS}/deny-get matched a DENY policy`);
    assert.ok(lines.some((l) => l.level === 'warn' && l['policy'] === `${NS}/deny-get` && l['reason'] === 'matched a DENY policy'));
  });

  it('an ALLOW rule with methods never matches a connection', async () => {
    await apply(ap('allow-get', { selector: SELECT_ECHO, action: 'ALLOW', rules: [{ from: [{ source: { principals: [CLIENT] } }], to: [{ operation: { methods: ['GET'] } }] }] }));
    assert.equal(await exchange('client'), '');
  });

  it('connection.sni is the verified handshake server name, on TCP and on HTTP', async () => {
    await apply(ap('sni', { selector: SELECT_ECHO, action: 'ALLOW', rules: [{ when: [{ key: 'connection.sni', values: [SNI, `echo.${NS}.svc.cluster.local`] }] }] }));
    assert.equal(await exchange('client', { servername: SNI }), 'hello\nping');
    assert.equal(await exchange('client', { servername: `other.${NS}.svc.cluster.local` }), '');
    assert.equal(await exchange('client'), '', 'no SNI');
    assert.equal(await httpStatus(`echo.${NS}.svc.cluster.local`), 200);
    assert.equal(await httpStatus('evil.example'), 403);
    assert.equal(await httpStatus(), 403, 'no SNI');
  });

  it('CUSTOM fails closed on TCP: its HTTP authorizer cannot be asked, so a matching policy denies', async () => {
    await apply(ap('ext', { selector: SELECT_ECHO, action: 'CUSTOM', provider: { name: 'ext' }, rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }));
    const before = denials().length;
    assert.equal(await exchange('client'), '');
    assert.match(String((await until(() => denials()[before], 'access line'))['denied']), /^authorization: demo\/ext CUSTOM provider "ext" is an HTTP authorizer and cannot check a TCP connection/);
    assert.ok(lines.some((l) => l.level === 'warn' && /CUSTOM AuthorizationPolicy cannot ask its HTTP authorizer about TCP connections/.test(l.msg)));
  });

  it('removing the policies restores access at once', async () => {
    await apply(ap('deny-all', { selector: SELECT_ECHO, action: 'DENY', rules: [{}] }));
    assert.equal(await exchange('stranger'), '');
    await apply();
    assert.equal(await exchange('stranger'), 'hello\nping');
  });

  it('refusals on mTLS sockets close cleanly, and no payload byte is logged', () => {
    assert.deepEqual(lines.filter((l) => l.level === 'error'), [], 'no failed chain (resetAndDestroy throws on a TLSSocket)');
    assert.ok(!JSON.stringify([lines, access]).includes(PAYLOAD));
    assert.ok(!app.received.includes(PAYLOAD));
  });
});
