/**
 * A request that names the sidecar's own outbound listener, as an absolute URI through the proxy or
 * as the Host of a request sent straight to it, would be forwarded back into the sidecar again and
 * again; it is answered at once with 508 Loop Detected, the reason in `x-tessera-reason` and in the
 * sidecar's access line. Ordinary traffic, and a client that sends the hop header itself, are unaffected.
 * In both pod networks: namespace (iptables REDIRECT to 127.0.0.1:15001, original destinations
 * that are pod addresses) and loopback (apps use the proxy through http_proxy).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deployDemo } from '../support/deploy.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

for (const network of ['namespace', 'loopback'] as const) describe(`a request naming the sidecar itself (${network} pod network)`, () => {
  let mesh: TestMesh;
  let curl = '';

  /**
   * `curl -s -m 10 -D - -o /dev/null ARGS` in the curl pod: the status and reason it got. `$PROXY` is
   * the sidecar's outbound listener: http_proxy where apps use it explicitly, 127.0.0.1:15001 where
   * iptables redirects them (namespace mode).
   */
  const head = async (args: string, pre = ''): Promise<{ code: string; reason: string | undefined }> => {
    const script = `PROXY=\${http_proxy:-http://127.0.0.1:15001}; ${pre} curl -s -m 10 -D - -o /dev/null ${args}; true`;
    const r = await mesh.tessera(['exec', curl, '-n', 'curl', '--', 'sh', '-c', script], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const code = /^HTTP\/1\.1 (\d{3})/m.exec(r.stdout)?.[1] ?? `none (${r.stdout.trim() || 'no answer within 10 s'})`;
    return { code, reason: /^x-tessera-reason: (.*?)\r?$/im.exec(r.stdout)?.[1] };
  };

  before(async () => {
    mesh = await startMesh('fsm', [`--pod-network=${network}`]);
    await deployDemo(mesh);
    curl = (await podOf(mesh, 'curl', 'curl')).name;
  });
  after(async () => {
    await mesh?.stop();
  });

  test('the absolute URI of the outbound proxy, through the proxy: 508 with the reason', async () => {
    const r = await head(`-x "$PROXY" "$PROXY/get"`);
    assert.equal(r.code, '508');
    assert.match(r.reason ?? '', /loop/i);
  });

  test('straight to the proxy, Host naming it: 508 with the reason', async () => {
    const r = await head(`--noproxy '*' "$PROXY/get"`);
    assert.equal(r.code, '508');
    assert.match(r.reason ?? '', /loop/i);
  });

  test('a request for a mesh service whose Host names the proxy: 508', async () => {
    // redirected (namespace mode) the Host decides where it goes; through http_proxy an absolute URI
    // would win over Host, so there the request goes to the proxy in origin form
    const pick = `if [ -n "\${http_proxy:-}" ]; then set -- --noproxy '*' "$PROXY/get"; else set -- http://httpbin.httpbin:14001/get; fi;`;
    const r = await head(`-H "Host: \${PROXY#http://}" "$@"`, pick);
    assert.equal(r.code, '508');
    assert.match(r.reason ?? '', /loop/i);
  });

  test('another spelling of the address (a.b.c.d as a.b.(c*256+d)): 508, from the hop marker', async () => {
    // the address comparison does not know this spelling; the request goes round once and is then recognised
    const pick =
      `A=\${PROXY#http://}; P=\${A##*:}; set -- $(echo "\${A%:*}" | tr . ' '); SHORT="$1.$2.$(($3 * 256 + $4)):$P";` +
      `if [ -n "\${http_proxy:-}" ]; then set -- --noproxy '*' "$PROXY/get"; else set -- http://httpbin.httpbin:14001/get; fi;`;
    const r = await head(`-H "Host: $SHORT" "$@"`, pick);
    assert.equal(r.code, '508');
    assert.match(r.reason ?? '', /came back to the sidecar that forwarded it/);
  });

  test('ordinary traffic and a client-sent hop header still pass; the access line names the loop', async () => {
    assert.equal((await head('http://httpbin.httpbin:14001/get')).code, '200');
    assert.equal((await head(`-H 'x-tessera-hop: 0123456789abcdef0123456789abcdef' http://httpbin.httpbin:14001/get`)).code, '200');
    const seen = await mesh.tessera(['exec', curl, '-n', 'curl', '--', 'curl', '-s', '-m', '10', 'http://httpbin.httpbin:14001/headers']);
    assert.match(seen.stdout, /"Host"/i, 'httpbin echoed the headers it got');
    assert.doesNotMatch(seen.stdout, /tessera-hop/i, 'the app never sees a hop marker');
    const line = await eventually(async () => {
      const logs = (await mesh.tessera(['logs', curl, '-n', 'curl', '-c', 'sidecar'])).stdout;
      return logs.split('\n').find((l) => l.includes('"type":"access"') && l.includes('"status":508'));
    }, 15_000, 'an access line with status 508');
    assert.match(line, /"denied":"[^"]*loop/i);
  });
});
