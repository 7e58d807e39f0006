/**
 * Deploying workloads the way the seeds do, as shell lines for `mesh.sh` scripts: a sample applied
 * in a namespace joined to the mesh, waits until pods are ready, a pod's name in a shell variable.
 * Each returns the seed's own command lines (real kubectl for kubectl, tessera for fsm/osm), so a script
 * built from them still reads as the commands it runs. `deployDemo` runs the seeds' demo services.
 */
import assert from 'node:assert/strict';
import type { TestMesh } from './mesh.js';

/** `create namespace NS`, `namespace add NS`, `apply -n NS -f "$SAMPLES/FILE"`: a seed deploying one of FSM's samples. */
export function deploySample(ns: string, file = `${ns}.yaml`): string {
  return [`kubectl create namespace ${ns}`, `tessera namespace add ${ns}`, `kubectl apply -n ${ns} -f "$SAMPLES/${file}"`].join('\n');
}

/** One `kubectl wait --for=condition=ready` line per [namespace, app] pod, each bounded by `timeout`. */
export function waitReady(pods: [ns: string, app: string][], timeout = '90s'): string {
  return pods.map(([ns, app]) => `kubectl wait --for=condition=ready pod -n ${ns} -l app=${app} --timeout=${timeout}`).join('\n');
}

/** `VAR=\`kubectl get pod -n NS -l app=APP -o jsonpath='{.items..metadata.name}'\``: how the seeds name a pod. */
export function podVar(variable: string, ns: string, app: string): string {
  return `${variable}=\`kubectl get pod -n ${ns} -l app=${app} -o jsonpath='{.items..metadata.name}'\``;
}

/** The seeds' demo services: curl and httpbin from FSM's samples, each in its own namespace in the mesh, both ready. */
export const DEMO_SERVICES = [deploySample('curl'), deploySample('httpbin'), waitReady([['curl', 'curl'], ['httpbin', 'httpbin']])].join('\n');

/** Runs `DEMO_SERVICES` in `mesh` (bounded by 180 s); the script must succeed. */
export async function deployDemo(mesh: TestMesh): Promise<void> {
  const r = await mesh.sh(DEMO_SERVICES, { timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
}

/**
 * The IAM walkthrough's steps (examples/iam, as `npm start` runs it): plugin policy on, the ext-auth
 * service, then the token verifier and injector plugins, expecting 200 → 401 on /get, 200 on
 * /headers → 200 once the injector's config is in. Snapshots reach sidecars asynchronously, so each
 * expectation polls `tries` times, `pause` seconds apart. `extAuthWait`: lines run before waiting for
 * the ext-auth pod (a node may need a moment to see it); `tolerateExecErrors` keeps a failed exec
 * (the pod not yet reachable) from ending the poll.
 */
export function iamWalkthrough(opts: { tries: number; pause: number; readyTimeout?: string; extAuthWait?: string; tolerateExecErrors?: boolean }): string {
  return [
    `kubectl patch meshconfig fsm-mesh-config -n fsm-system -p '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}' --type=merge`,
    'kubectl create namespace auth',
    'kubectl apply -f examples/iam/03-ext-auth.yaml',
    ...(opts.extAuthWait ? [opts.extAuthWait] : []),
    waitReady([['auth', 'ext-auth']], opts.readyTimeout),
    podVar('curl_pod', 'curl', 'curl'),
    `code() { kubectl exec $curl_pod -n curl -c curl -- curl -s -o /dev/null -w '%{http_code}' http://httpbin.httpbin:14001$1${opts.tolerateExecErrors ? ' || true' : ''}; }`,
    `expect() { for i in $(seq 1 ${opts.tries}); do c=$(code $2); [ "$c" = "$1" ] && { echo "$2 $c"; return 0; }; sleep ${opts.pause}; done; echo "$2 $c (wanted $1)"; return 1; }`,
    'expect 200 /get',
    'kubectl apply -f examples/iam/04-plugins.yaml -f examples/iam/05-verifier-config.yaml',
    'expect 401 /get',
    'expect 200 /headers',
    'kubectl apply -f examples/iam/06-injector-config.yaml',
    'expect 200 /get',
  ].join('\n');
}
