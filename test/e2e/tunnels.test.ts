/**
 * No tunnel past the outbound chain (issue #20 item 2, docs/security.md "Tunnels"), on a real mesh:
 * the curl pod's outbound chain runs the built-in `claims-to-headers` plugin for `reminder`, which
 * answers 401 to a request without a user token (a forged `X-User-Id` must never reach the app).
 * The same forged request is sent in the open through the pod's outbound proxy, inside a CONNECT
 * tunnel (`curl -p`), and as an Upgrade (WebSocket, h2c); every way gets the plugin's answer, or 403
 * for the CONNECT itself while MeshConfig `spec.traffic.outboundConnectAllowList` does not name
 * the destination. Runs in the default pod network (namespace mode where possible: the sidecar
 * originates mTLS to reminder's, so the tunnel goes through the mesh's routing and mTLS too).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { deploySample, waitReady } from '../support/deploy.js';
import { httpbinApp } from '../support/manifests.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';
import { localIPFor } from '../../src/local/layout.js';

const ISS = 'https://idp.example';
const idp = generateKeyPairSync('rsa', { modulusLength: 2048 });
const IDP_JWKS = JSON.stringify({ keys: [{ ...(idp.publicKey.export({ format: 'jwk' }) as object), kid: 'idp-1', alg: 'RS256' }] });
const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
function userToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64u({ alg: 'RS256', typ: 'JWT', kid: 'idp-1' })}.${b64u({ iss: ISS, sub: 'alice', aud: 'gateway', iat: now, exp: now + 600 })}`;
  return `${input}.${createSign('sha256').update(input).sign(idp.privateKey).toString('base64url')}`;
}

const POLICY = `
kind: PluginChain
apiVersion: plugin.flomesh.io/v1alpha1
metadata: { name: claims, namespace: curl }
spec:
  chains:
  - name: outbound-http
    plugins: [claims-to-headers]
  selectors:
    podSelector: { matchLabels: { app: curl } }
---
kind: PluginConfig
apiVersion: plugin.flomesh.io/v1alpha1
metadata: { name: extract-for-reminder, namespace: curl }
spec:
  plugin: claims-to-headers
  destinationRefs: [{ kind: Service, name: reminder, namespace: default }]
  config:
    verify: { issuer: "${ISS}", audiences: [gateway], jwks: '${IDP_JWKS}' }
    claimHeaders:
    - { claim: sub, header: X-User-Id }
`;

const REMINDER = 'http://reminder.default:14001';
const FORGED = `-H 'X-User-Id: mallory'`;

describe('no tunnel past the outbound chain: the same forged request in the open, through CONNECT and as an Upgrade', () => {
  let mesh: TestMesh;
  let curl = { name: '', ip: '' };
  /** the curl pod's outbound proxy as its apps reach it without interception */
  let proxy = '';

  /** Runs curl in the curl pod; `<CONNECT status> <response status> <X-User-Id the app saw>`. */
  async function call(args: string): Promise<{ connect: string; status: string; user: string; raw: string }> {
    const script = `out=$(curl -s -m 10 -o /tmp/body -w '%{http_connect} %{http_code}' ${args}); echo "$out $(grep -o '"X-User-Id": *"[^"]*"' /tmp/body | sed 's/.*: *"//; s/"$//')"`;
    const r = await mesh.tessera(['exec', curl.name, '-n', 'curl', '--', 'sh', '-c', script], { timeoutMs: 60_000 });
    const [connect = '', status = '', user = ''] = r.stdout.trim().split(' ');
    return { connect, status, user, raw: r.stdout + r.stderr };
  }
  async function sidecarLog(): Promise<string> {
    return (await mesh.tessera(['logs', curl.name, '-n', 'curl', '-c', 'sidecar', '--tail', '200'])).stdout;
  }

  before(async () => {
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"featureFlags":{"enablePluginPolicy":true},"sidecar":{"logLevel":"warn"}}}' --type=merge
      tessera namespace add default
${deploySample('curl')}
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('reminder')}
EOF_APPS
${waitReady([['default', 'reminder'], ['curl', 'curl']])}
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curl = await podOf(mesh, 'curl', 'curl');
    proxy = `http://${curl.ip.startsWith('127.') ? localIPFor(curl.ip) : '127.0.0.1'}:15001`;
    const applied = await mesh.tessera(['apply', '-f', '-'], { input: POLICY });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    // the plugin in force: a request with a user token reaches reminder as alice
    await eventually(async () => {
      const ok = await call(`-H 'Authorization: Bearer ${userToken()}' ${FORGED} ${REMINDER}/headers`);
      return ok.status === '200' && ok.user === 'alice';
    }, 60_000, 'claims-to-headers in the curl pod chain');
  });
  after(async () => {
    await mesh?.stop();
  });

  test('the forged request: 401 in the open, 403 for its CONNECT while no egress setting allows the tunnel; the refusal is logged', async () => {
    const open = await call(`${FORGED} ${REMINDER}/headers`);
    assert.equal(open.status, '401', open.raw);
    const viaProxy = await call(`-x ${proxy} ${FORGED} ${REMINDER}/headers`);
    assert.equal(viaProxy.status, '401', `through the explicit proxy: ${viaProxy.raw}`);
    const tunnelled = await call(`-p -x ${proxy} ${FORGED} ${REMINDER}/headers`);
    assert.equal(tunnelled.connect, '403', `the CONNECT refused: ${tunnelled.raw}`);
    assert.notEqual(tunnelled.user, 'mallory');
    const log = await sidecarLog();
    assert.match(log, /"method":"CONNECT","target":"reminder\.default:14001"[^\n]*"status":403,"refused":"CONNECT to reminder\.default:14001 refused: no entry of MeshConfig spec\.traffic\.outboundConnectAllowList allows it"/, log.slice(-2000));
  });

  test('allowed by outboundConnectAllowList, the tunnel carries HTTP through the same chain: the same 401, and a real token still makes alice', async () => {
    const patched = await mesh.sh(`tessera patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"traffic":{"outboundConnectAllowList":["reminder.default:14001"]}}}' --type=merge`);
    assert.equal(patched.code, 0, patched.stdout + patched.stderr);
    const tunnelled = await eventually(async () => {
      const t = await call(`-p -x ${proxy} ${FORGED} ${REMINDER}/anything/tunnelled`);
      return t.connect === '200' ? t : undefined;
    }, 30_000, 'the allow list reaching the curl sidecar');
    const open = await call(`${FORGED} ${REMINDER}/headers`);
    assert.deepEqual([tunnelled.status, tunnelled.user], [open.status, open.user], tunnelled.raw);
    assert.equal(tunnelled.status, '401', tunnelled.raw);
    const withToken = await call(`-p -x ${proxy} -H 'Authorization: Bearer ${userToken()}' ${FORGED} ${REMINDER}/headers`);
    assert.deepEqual([withToken.connect, withToken.status, withToken.user], ['200', '200', 'alice'], withToken.raw);
    // the tunnelled refusal is the plugin's, logged as the open one is
    const log = await sidecarLog();
    assert.match(log, /"authority":"reminder\.default:14001","path":"\/anything\/tunnelled","status":401,[^\n]*"denied":"claims-to-headers: no token"/, log.slice(-2000));
  });

  test('an Upgrade carries the forged request through the chain too: WebSocket and h2c get the same 401', async () => {
    const ws = await call(`-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' ${FORGED} ${REMINDER}/headers`);
    assert.equal(ws.status, '401', ws.raw);
    const h2c = await call(`--http2 ${FORGED} ${REMINDER}/headers`);
    assert.equal(h2c.status, '401', h2c.raw);
    const wsTunnelled = await call(`-p -x ${proxy} -H 'Connection: Upgrade' -H 'Upgrade: websocket' ${FORGED} ${REMINDER}/headers`);
    assert.equal(wsTunnelled.status, '401', wsTunnelled.raw);
  });
});
