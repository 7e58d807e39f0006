/**
 * Switching the mesh from plaintext to mTLS (MeshConfig spec.sidecar.sidecarDisabledMTLS true →
 * false) while a client sends requests without pause to a meshed server: not one request fails
 * across the switch, and once the switch is over the server's sidecar refuses plaintext again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployDemo } from '../support/deploy.js';
import { eventually, podOf, startMesh, type RunResult, type TestMesh } from '../support/mesh.js';

/** How long the client keeps sending, at most (and at most MAX_REQUESTS requests). */
const SEND_SECONDS = 40;
const MAX_REQUESTS = 4000;
const PARALLEL = 4;
const BURST = 24;

for (const network of ['namespace', 'loopback'] as const) describe(`plaintext → mTLS mesh-wide, under traffic (${network} pod network)`, () => {
  let mesh: TestMesh;
  let curl = '';
  let httpbinIP = '';
  let outsider = '';
  /** the process group of a sidecar this test froze, resumed in `after` whatever happened */
  let stopped: number | undefined;

  const patchMtls = async (disabled: boolean): Promise<void> => {
    const r = await mesh.tessera(['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '--type=merge', '-p', JSON.stringify({ spec: { sidecar: { sidecarDisabledMTLS: disabled } } })]);
    assert.equal(r.code, 0, r.stderr);
  };
  /** every proxy SYNCED on a version other than those in `old` (a change every proxy applied) */
  const converged = async (old: ReadonlySet<string>): Promise<boolean> => {
    const r = await mesh.tessera(['proxy', 'status', '-o', 'json']);
    const rows = JSON.parse(r.stdout) as { sync: string; appliedVersion?: string }[];
    return rows.length >= 2 && rows.every((p) => p.sync === 'SYNCED' && p.appliedVersion !== undefined && !old.has(p.appliedVersion));
  };
  const versions = async (): Promise<Set<string>> => {
    const r = await mesh.tessera(['proxy', 'status', '-o', 'json']);
    return new Set((JSON.parse(r.stdout) as { appliedVersion?: string }[]).map((p) => p.appliedVersion ?? ''));
  };
  /**
   * A plaintext request straight to the server's pod address from a pod outside the mesh (its
   * namespace is not in the mesh: no sidecar): its status, `000` when refused.
   */
  const plaintextStatus = async (): Promise<string> => {
    const r = await mesh.tessera(['exec', outsider, '-n', 'outside', '--', 'curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${httpbinIP}:14001/get`], { timeoutMs: 20_000 });
    return r.stdout.trim();
  };

  before(async () => {
    mesh = await startMesh('fsm', [`--pod-network=${network}`]);
    await patchMtls(true);
    await deployDemo(mesh);
    const r = await mesh.sh(`kubectl create namespace outside\nkubectl apply -n outside -f "$SAMPLES/curl.yaml"\nkubectl wait --for=condition=ready pod -n outside -l app=curl --timeout=90s`, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    outsider = (await podOf(mesh, 'outside', 'curl')).name;
    curl = (await podOf(mesh, 'curl', 'curl')).name;
    httpbinIP = (await podOf(mesh, 'httpbin', 'httpbin')).ip;
  });
  after(async () => {
    if (stopped !== undefined) process.kill(-stopped, 'SIGCONT');
    await mesh?.stop();
  });

  test('no request fails across the switch; plaintext is refused after it', async () => {
    const old = await eventually(async () => {
      const v = await versions();
      return v.size >= 1 && !v.has('') ? v : undefined;
    }, 30_000, 'proxies with a version');
    assert.equal(await plaintextStatus(), '200', 'plaintext mode: the server takes plaintext from anyone');
    // PARALLEL clients, each sending one request after another, so the client sidecar keeps several
    // upstream connections busy and opens new ones when requests pile up
    const loop =
      `end=$(($(date +%s) + ${SEND_SECONDS})); i=0; ` +
      `while [ $i -lt ${MAX_REQUESTS / PARALLEL} ] && [ $(date +%s) -lt $end ]; do i=$((i + 1)); ` +
      `c=$(curl -s -o /dev/null -m 10 -w '%{http_code}' http://httpbin.httpbin:14001/get); echo "$(date +%s%3N) $c"; done`;
    const script = `for j in $(seq 1 ${PARALLEL}); do (${loop}) & done; wait`;
    const sending = mesh.tessera(['exec', curl, '-n', 'curl', '--', 'sh', '-c', script], { timeoutMs: (SEND_SECONDS + 30) * 1000 });
    await new Promise((r) => setTimeout(r, 6_000));
    // The proxies of a real mesh take the switch at different moments (a busy or distant sidecar
    // applies it later). The client's sidecar is made the late one here: frozen (SIGSTOP, by the
    // PID this test's mesh wrote) until the server's sidecar has applied the mTLS snapshot, while
    // the clients' requests pile up in front of it.
    const pid = Number(readFileSync(join(mesh.stateDir, 'pods', 'curl', curl, 'sidecar.pid'), 'utf8').trim());
    assert.ok(pid > 0, 'the client sidecar pid');
    const switchedAt = Date.now();
    let burst: Promise<RunResult> | undefined;
    process.kill(-pid, 'SIGSTOP');
    stopped = pid;
    try {
      await patchMtls(false);
      await eventually(async () => {
        const r = await mesh.tessera(['proxy', 'status', '-o', 'json']);
        const s = (JSON.parse(r.stdout) as { namespace: string; appliedVersion?: string }[]).find((p) => p.namespace === 'httpbin');
        return s?.appliedVersion !== undefined && !old.has(s.appliedVersion);
      }, 30_000, 'the server sidecar on the mTLS snapshot');
      // more requests than the client sidecar holds connections for: on resume it must open new ones
      burst = mesh.tessera(['exec', curl, '-n', 'curl', '--', 'sh', '-c', `seq 1 ${BURST} | xargs -P ${BURST} -I{} sh -c 'echo "$(date +%s%3N) $(curl -s -o /dev/null -m 10 -w %{http_code} http://httpbin.httpbin:14001/get)"'`], { timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      process.kill(-pid, 'SIGCONT');
      stopped = undefined;
    }
    await eventually(() => converged(old), 30_000, 'every proxy on the mTLS snapshot');
    const convergedAt = Date.now();
    const sent = await sending;
    assert.equal(sent.code, 0, sent.stderr);
    const burstSent = await burst!;
    assert.equal(burstSent.code, 0, burstSent.stderr);
    assert.equal(burstSent.stdout.trim().split('\n').length, BURST);
    const results = (sent.stdout.trim() + '\n' + burstSent.stdout.trim()).split('\n').map((l) => l.split(' ') as [string, string]).map(([t, c]) => ({ t: Number(t), c }));
    const failed = results.filter((r) => r.c !== '200');
    const before = results.filter((r) => r.t < switchedAt).length;
    const afterwards = results.filter((r) => r.t > convergedAt).length;
    process.stdout.write(`# ${results.length} requests: ${before} before the switch, ${afterwards} after every proxy converged; ${failed.length} failed${failed.length ? ` (${[...new Set(failed.map((f) => f.c))].join(', ')}, over ${failed.at(-1)!.t - failed[0]!.t} ms)` : ''}\n`);
    assert.ok(before > 0 && afterwards > 0, 'requests on both sides of the switch');
    assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 10))}`);
    // the mesh is strict now: plaintext from outside the mesh is refused once the transition is over
    await eventually(async () => (await plaintextStatus()) === '000', 60_000, 'plaintext refused');
  });
});
