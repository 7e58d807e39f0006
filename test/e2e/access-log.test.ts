/**
 * Access-log controls end to end: an Istio Telemetry applied with the user's own kubectl (oldest and
 * newest on the machine) reaches the sidecars through the control plane. With Istio's error filter
 * (`response.code >= 400`) the server's sidecar writes the 4xx answers and the policy refusals and
 * none of the 200s; a workload Telemetry turning the log off keeps only refusals; deleting both
 * brings back a line per request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statusCodes } from '../support/curl.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { kubectl, kubectlBinaries, startKubectlMesh } from '../support/kubectl.js';
import { httpbinApp } from '../support/manifests.js';
import { eventually, podOf, type TestMesh } from '../support/mesh.js';

const ERRORS_ONLY = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: fsm-system }
spec:
  accessLogging:
  - providers: [{ name: envoy }]
    filter: { expression: "response.code >= 400" }
`;

const TODOS_OFF = `apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata: { name: todos-quiet, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  accessLogging:
  - disabled: true
`;

const DENY_ADMIN = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin"] } }] }]
`;

type Line = Record<string, unknown>;

describe('access-log controls (Istio Telemetry accessLogging)', () => {
  let mesh: TestMesh;
  let curl = '';
  let todos = '';
  const URL = 'http://todos.default:14001';
  const [oldest, newest] = [kubectlBinaries()[0], kubectlBinaries().at(-1)];

  const accessLines = async (): Promise<Line[]> => {
    const out = (await mesh.tessera(['logs', todos, '-n', 'default', '-c', 'sidecar'])).stdout;
    return out.split('\n').filter((l) => l.includes('"type":"access"')).map((l) => JSON.parse(l) as Line);
  };
  /** One round of traffic tagged by user agent; resolves when the round's refusal (sent last) is in the log. */
  async function round(tag: string): Promise<Line[]> {
    const ua = (what: string) => `-A '${tag}-${what}'`;
    const codes = await statusCodes(mesh, 'curl', curl, [
      ['ok', `${ua('200')} ${URL}/get`],
      ['ok2', `${ua('200')} ${URL}/status/200`],
      ['teapot', `${ua('418')} ${URL}/status/418`],
      ['forbidden', `${ua('403')} ${URL}/status/403`],
      ['refused', `${ua('refused')} ${URL}/admin`],
    ]);
    assert.deepEqual(codes, { ok: '200', ok2: '200', teapot: '418', forbidden: '403', refused: '403' });
    return eventually(async () => {
      const lines = (await accessLines()).filter((l) => String(l['userAgent']).startsWith(`${tag}-`));
      return lines.some((l) => l['userAgent'] === `${tag}-refused`) ? lines : undefined;
    }, 20_000, `round ${tag} logged`);
  }
  const agents = (lines: Line[]) => lines.map((l) => String(l['userAgent']).replace(/^[^-]+-/, '')).sort();

  before(async () => {
    mesh = await startKubectlMesh('fsm');
    const r = await mesh.sh(
      `
      tessera namespace add default
${deploySample('curl')}
      tessera apply -f - <<'EOF_APPS'
${httpbinApp('todos', { account: false })}
---
${DENY_ADMIN}
EOF_APPS
${waitReady([['default', 'todos'], ['curl', 'curl']], '60s')}
      `,
      { timeoutMs: 90_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curl = (await podOf(mesh, 'curl', 'curl')).name;
    todos = (await podOf(mesh, 'default', 'todos')).name;
  });
  after(async () => {
    await mesh?.stop();
  });

  test('by default every request is written, refusals with their reason', async () => {
    const lines = await round('plain');
    assert.deepEqual(agents(lines), ['200', '200', '403', '418', 'refused']);
    assert.match(String(lines.find((l) => l['userAgent'] === 'plain-refused')?.['denied']), /^authorization: matched a DENY policy; policy default\/deny-admin rule 0/);
  });

  test("a mesh-wide error filter (kubectl, Istio's manifest) writes the 403s and 418 and none of the 200s", async () => {
    assert.ok(oldest, 'a kubectl to apply with');
    const applied = await kubectl(mesh, ['apply', '-f', '-'], { bin: oldest, input: ERRORS_ONLY });
    assert.equal(applied.code, 0, applied.stderr);
    // in force once a round writes no 200
    let n = 0;
    const lines = await eventually(async () => {
      const got = await round(`errors${n++}`);
      return got.some((l) => l['status'] === 200) ? undefined : got;
    }, 30_000, 'the filter in force');
    assert.deepEqual(agents(lines), ['403', '418', 'refused']);
  });

  test('a workload Telemetry (v1alpha1, newest kubectl) turning the log off keeps the refusals only; deleting both restores every line', async () => {
    const bin = newest ?? oldest!;
    const applied = await kubectl(mesh, ['apply', '-f', '-'], { bin, input: TODOS_OFF });
    assert.equal(applied.code, 0, applied.stderr);
    let n = 0;
    const quiet = await eventually(async () => {
      const got = await round(`quiet${n++}`);
      return got.length === 1 ? got : undefined;
    }, 30_000, 'the workload rule in force');
    assert.deepEqual(agents(quiet), ['refused']);
    const gone = await kubectl(mesh, ['delete', 'telemetries.telemetry.istio.io', '--all', '-A'], { bin });
    assert.equal(gone.code, 0, gone.stderr);
    n = 0;
    const back = await eventually(async () => {
      const got = await round(`back${n++}`);
      return got.length === 5 ? got : undefined;
    }, 30_000, 'every line again');
    assert.deepEqual(agents(back), ['200', '200', '403', '418', 'refused']);
  });

  test('a filter that does not compile is refused at apply, naming the field, and changes nothing', async () => {
    const bad = ERRORS_ONLY.replace('response.code', 'respnse.code').replace('mesh-default', 'typo');
    const r = await kubectl(mesh, ['apply', '-f', '-'], { bin: oldest!, input: bad });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.accessLogging\[0\]\.filter\.expression: is not a valid filter: Unknown variable: respnse/);
    const list = await kubectl(mesh, ['get', 'telemetries', '-A', '-o', 'name'], { bin: oldest! });
    assert.equal(list.stdout.trim(), '');
  });
});
