/**
 * Authentication and RBAC on `tessera up` with real kubectl (issue #13): the admin (system:masters)
 * may do anything; a user with a client certificate of the mesh's cluster CA, bound to `view` in one
 * namespace, reads there and gets kube-apiserver's exact 403 elsewhere and for writes; `kubectl auth
 * can-i` answers (both kubectls); `kubectl create token` issues a ServiceAccount token that
 * authenticates as the ServiceAccount in a kubeconfig, until the ServiceAccount or its bound pod is
 * gone; the issuer's discovery document and JWKS verify it. The mesh's components run as their
 * ServiceAccounts with the roles `tessera install` gives them; pods get their ServiceAccount token
 * mounted (bound to the pod, `automountServiceAccountToken: false` honoured); `kubectl --as`
 * impersonates when RBAC grants `impersonate`; TokenReview and (Local)SubjectAccessReview answer.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { parse as parseYaml, stringify } from 'yaml';
import { signClusterLeaf } from '../../src/local/pki/index.js';
import { eventually, run, type RunResult, type TestMesh } from '../support/mesh.js';
import { kubeApi, kubectlBinaries, missingKubectls, startKubectlMesh, type KubectlBinary } from '../support/kubectl.js';

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, string> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

/** A kubeconfig like the admin's, for another user (client certificate, token, or exec plugin). */
export function kubeconfigFor(mesh: TestMesh, name: string, user: Record<string, unknown>): string {
  const admin = parseYaml(readFileSync(join(mesh.stateDir, 'kubeconfig'), 'utf8')) as Kubeconfig;
  const cfg: Kubeconfig = {
    ...admin,
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: admin.clusters[0]!.name, user: name } }],
    'current-context': name,
  };
  const file = join(mesh.stateDir, `kubeconfig-${name.replace(/[^a-z0-9-]/gi, '_')}`);
  writeFileSync(file, stringify(cfg), { mode: 0o600 });
  return file;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const [OLDEST] = kubectlBinaries();
const NEWEST = kubectlBinaries().at(-1);

for (const m of missingKubectls()) {
  describe(`RBAC with kubectl (${m.role})`, { skip: m.skip }, () => {
    it('authorizes kubectl', () => undefined);
  });
}

describe('authentication and RBAC with real kubectl', { skip: NEWEST ? false : 'no kubectl on this machine', timeout: 600_000 }, () => {
  let mesh: TestMesh;
  let janeConfig = '';

  /** kubectl with a kubeconfig (the admin's by default) and a HOME of its own per kubeconfig */
  const k = (args: string[], opts: { config?: string; bin?: KubectlBinary; input?: string } = {}): Promise<RunResult> => {
    const config = opts.config ?? join(mesh.stateDir, 'kubeconfig');
    const bin = opts.bin ?? NEWEST!;
    const home = `${config}-home-${bin.version}`;
    mkdirSync(home, { recursive: true });
    return run(bin.path, args, { env: { ...process.env, KUBECONFIG: config, HOME: home }, timeoutMs: 60_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  };
  const ok = async (args: string[], opts: { config?: string; bin?: KubectlBinary; input?: string } = {}): Promise<string> => {
    const r = await k(args, opts);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  };
  /** kubectl fails with the 403 `message`, printed as kubectl prints it (`Error from server (Forbidden): …`, or `prefix…` for generators) */
  const forbidden = async (args: string[], config: string, message: string, bin?: KubectlBinary, prefix = 'Error from server (Forbidden): '): Promise<void> => {
    const r = await k(args, { config, ...(bin ? { bin } : {}) });
    assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should fail\n${r.stdout}`);
    assert.equal(r.stderr.trim(), `${prefix}${message}`);
  };

  before(async () => {
    mesh = await startKubectlMesh('rbac');
    await ok(['create', 'namespace', 'team']);
    await ok(['create', 'namespace', 'other']);
    await ok(['create', 'configmap', 'settings', '-n', 'team', '--from-literal=a=1']);
    await ok(['create', 'configmap', 'settings', '-n', 'other', '--from-literal=a=2']);
    const pki = join(mesh.stateDir, 'pki');
    const ca = { cert: readFileSync(join(pki, 'ca.crt'), 'utf8'), key: readFileSync(join(pki, 'ca.key'), 'utf8') };
    const jane = await signClusterLeaf(ca, { commonName: 'jane', organizations: ['developers'], usage: 'client' });
    janeConfig = kubeconfigFor(mesh, 'jane', { 'client-certificate-data': b64(jane.cert), 'client-key-data': b64(jane.key) });
  });
  after(async () => {
    await mesh?.stop();
  });

  it('serves the RBAC kinds with the default roles; the admin may do anything', async () => {
    const roles = await ok(['get', 'clusterroles', '-o', 'name']);
    for (const r of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user']) assert.match(roles, new RegExp(`^clusterrole.rbac.authorization.k8s.io/${r}$`, 'm'));
    assert.equal((await ok(['get', 'clusterrolebinding', 'cluster-admin', '-o', 'jsonpath={.subjects[0].name}'])), 'system:masters');
    assert.equal((await ok(['auth', 'can-i', '*', '*'])).trim(), 'yes');
    assert.equal((await ok(['auth', 'can-i', 'delete', 'nodes'])).trim(), 'yes');
  });

  it('a user without bindings gets kube-apiserver\'s 403', async () => {
    await forbidden(['get', 'configmaps', '-n', 'team'], janeConfig, 'configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "team"');
    await forbidden(['get', 'namespaces'], janeConfig, 'namespaces is forbidden: User "jane" cannot list resource "namespaces" in API group "" at the cluster scope');
  });

  it('bound to view in one namespace: reads there, 403 elsewhere and for writes', async () => {
    assert.equal((await ok(['create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane', '-n', 'team'])).trim(), 'rolebinding.rbac.authorization.k8s.io/jane-view created');
    const got = await eventually(async () => {
      const r = await k(['get', 'configmap', 'settings', '-n', 'team', '-o', 'jsonpath={.data.a}'], { config: janeConfig });
      return r.code === 0 && r.stdout;
    }, 10_000, 'jane reads team');
    assert.equal(got, '1');
    assert.match(await ok(['get', 'configmaps', '-n', 'team'], { config: janeConfig }), /^settings\s+1\s+/m);
    await forbidden(['get', 'configmaps', '-n', 'other'], janeConfig, 'configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "other"');
    await forbidden(['get', 'configmap', 'settings', '-n', 'other'], janeConfig, 'configmaps "settings" is forbidden: User "jane" cannot get resource "configmaps" in API group "" in the namespace "other"');
    await forbidden(['delete', 'configmap', 'settings', '-n', 'team'], janeConfig, 'configmaps "settings" is forbidden: User "jane" cannot delete resource "configmaps" in API group "" in the namespace "team"');
    await forbidden(['create', 'configmap', 'x', '-n', 'team', '--from-literal=b=1'], janeConfig, 'configmaps is forbidden: User "jane" cannot create resource "configmaps" in API group "" in the namespace "team"', undefined, 'error: failed to create configmap: ');
    await forbidden(['get', 'secrets', '-n', 'team'], janeConfig, 'secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" in the namespace "team"');
    // the oldest kubectl prints the same
    if (OLDEST && OLDEST !== NEWEST) {
      await forbidden(['delete', 'configmap', 'settings', '-n', 'team'], janeConfig, 'configmaps "settings" is forbidden: User "jane" cannot delete resource "configmaps" in API group "" in the namespace "team"', OLDEST);
    }
    // the admin still reads everything
    assert.equal(await ok(['get', 'configmap', 'settings', '-n', 'other', '-o', 'jsonpath={.data.a}']), '2');
  });

  it('kubectl auth can-i answers for the user (every kubectl)', async () => {
    for (const bin of kubectlBinaries()) {
      assert.equal((await ok(['auth', 'can-i', 'list', 'pods', '-n', 'team'], { config: janeConfig, bin })).trim(), 'yes', bin.version);
      const no = await k(['auth', 'can-i', 'delete', 'pods', '-n', 'team'], { config: janeConfig, bin });
      assert.equal(no.code, 1, bin.version);
      assert.equal(no.stdout.trim(), 'no', bin.version);
      const elsewhere = await k(['auth', 'can-i', 'get', 'configmaps', '-n', 'other'], { config: janeConfig, bin });
      assert.equal(elsewhere.stdout.trim(), 'no', bin.version);
    }
    const list = await ok(['auth', 'can-i', '--list', '-n', 'team'], { config: janeConfig });
    assert.match(list, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.match(list, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  });

  it('kubectl auth whoami names the certificate\'s user and groups', async () => {
    const out = await k(['auth', 'whoami', '-o', 'json'], { config: janeConfig });
    if (out.code !== 0 && /unknown command|unknown subcommand/.test(out.stderr)) return; // kubectl < 1.27
    assert.equal(out.code, 0, out.stderr);
    const review = JSON.parse(out.stdout) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.deepEqual(review.status.userInfo, { username: 'jane', groups: ['developers', 'system:authenticated'] });
  });

  it('kubectl create token: the token authenticates as the ServiceAccount until it is deleted', async () => {
    await ok(['create', 'serviceaccount', 'bot', '-n', 'team']);
    await ok(['create', 'rolebinding', 'bot-edit', '--clusterrole=edit', '--serviceaccount=team:bot', '-n', 'team']);
    const token = (await ok(['create', 'token', 'bot', '-n', 'team', '--duration=15m'])).trim();
    assert.match(token, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
    assert.equal(claims['iss'], 'https://kubernetes.default.svc.cluster.local');
    assert.deepEqual(claims['aud'], ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(claims['sub'], 'system:serviceaccount:team:bot');
    assert.equal(claims['exp'] - claims['iat'], 900);
    assert.equal(claims['kubernetes.io'].namespace, 'team');
    assert.equal(claims['kubernetes.io'].serviceaccount.name, 'bot');
    assert.equal(claims['kubernetes.io'].serviceaccount.uid, (await ok(['get', 'sa', 'bot', '-n', 'team', '-o', 'jsonpath={.metadata.uid}'])));

    // the issuer's discovery document and JWKS verify it
    const api = kubeApi(mesh);
    const discovery = await api.request('GET', '/.well-known/openid-configuration');
    assert.equal(discovery.status, 200);
    assert.equal(discovery.json.issuer, 'https://kubernetes.default.svc.cluster.local');
    const jwks = await api.request('GET', new URL(discovery.json.jwks_uri as string).pathname);
    assert.equal(jwks.status, 200);
    const verified = await jwtVerify(token, createLocalJWKSet(jwks.json), { issuer: claims['iss'], audience: claims['aud'] });
    assert.equal(verified.payload.sub, 'system:serviceaccount:team:bot');

    const botConfig = kubeconfigFor(mesh, 'bot', { token });
    await ok(['create', 'configmap', 'from-bot', '-n', 'team', '--from-literal=x=y'], { config: botConfig });
    const who = await k(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { config: botConfig });
    if (who.code === 0) assert.equal(who.stdout, 'system:serviceaccount:team:bot');
    await forbidden(['get', 'configmaps', '-n', 'other'], botConfig, 'configmaps is forbidden: User "system:serviceaccount:team:bot" cannot list resource "configmaps" in API group "" in the namespace "other"');
    // the ServiceAccount goes: its tokens go with it
    await ok(['delete', 'serviceaccount', 'bot', '-n', 'team']);
    const refused = await k(['get', 'configmaps', '-n', 'team'], { config: botConfig });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
  });

  it('kubectl create token --bound-object-kind Pod: valid while that pod lives', async () => {
    await ok(['create', 'serviceaccount', 'worker', '-n', 'team']);
    await ok(['create', 'rolebinding', 'worker-view', '--clusterrole=view', '--serviceaccount=team:worker', '-n', 'team']);
    await ok(['apply', '-f', '-'], {
      input: `apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: team }
spec:
  replicas: 1
  selector: { matchLabels: { app: worker } }
  template:
    metadata:
      labels: { app: worker }
      annotations: { local.tessera.dev/command: 'sleep 3600' }
    spec:
      serviceAccountName: worker
      containers: [{ name: worker, image: busybox }]
`,
    });
    const pod = await eventually(async () => (await ok(['get', 'pods', '-n', 'team', '-l', 'app=worker', '-o', 'jsonpath={.items[0].metadata.name}'])) || undefined, 30_000, 'the worker pod');
    const token = (await ok(['create', 'token', 'worker', '-n', 'team', '--bound-object-kind', 'Pod', '--bound-object-name', pod])).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
    assert.equal(claims['kubernetes.io'].pod.name, pod);
    assert.equal(claims['exp'] - claims['iat'], 3600);
    const config = kubeconfigFor(mesh, 'worker', { token });
    assert.match(await ok(['get', 'pods', '-n', 'team'], { config }), new RegExp(`^${pod}\\s`, 'm'));
    // a token for another ServiceAccount cannot be bound to this pod
    const other = await k(['create', 'token', 'default', '-n', 'team', '--bound-object-kind', 'Pod', '--bound-object-name', pod]);
    if (other.code === 0) assert.fail('bound a token of another ServiceAccount to the pod');
    await ok(['delete', 'pod', pod, '-n', 'team', '--wait=true']);
    await eventually(async () => {
      const r = await k(['get', 'pods', '-n', 'team'], { config });
      return r.code !== 0 && /Unauthorized/.test(r.stderr);
    }, 30_000, 'the token to stop working once its pod is gone');
  });

  /** A raw HTTPS request to the mesh's API with a bearer token (no client certificate). */
  const bearerRequest = async (path: string, token: string): Promise<number> => {
    const { request } = await import('node:https');
    const server = new URL(kubeApi(mesh).server);
    const ca = readFileSync(join(mesh.stateDir, 'pki', 'ca.crt'), 'utf8');
    return new Promise<number>((resolve, reject) => {
      const req = request({ hostname: server.hostname, port: server.port, path, ca, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  };
  const SYSTEM_NS = 'rbac-system';
  const claimsOf = (token: string): Record<string, any> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

  it('the mesh components run as their ServiceAccounts with the roles tessera install gives them', async () => {
    // the objects src/install renders, created at `up`
    for (const c of ['controller', 'injector']) {
      assert.equal(await ok(['get', 'clusterrolebinding', `rbac-${c}`, '-o', 'jsonpath={.subjects[0].kind}/{.subjects[0].namespace}/{.subjects[0].name}']), `ServiceAccount/${SYSTEM_NS}/rbac-${c}`);
    }
    for (const c of ['controller', 'bootstrap']) assert.equal(await ok(['get', 'role', `rbac-${c}`, '-n', SYSTEM_NS, '-o', 'jsonpath={.metadata.name}']), `rbac-${c}`);
    const controller = `system:serviceaccount:${SYSTEM_NS}:rbac-controller`;
    const canI = async (args: string[]): Promise<string> => (await k(['auth', 'can-i', ...args])).stdout.trim();
    assert.equal(await canI(['list', 'pluginchains.plugin.flomesh.io', '-A', `--as=${controller}`]), 'yes');
    assert.equal(await canI(['watch', 'meshconfigs.config.flomesh.io', '-A', `--as=${controller}`]), 'yes');
    assert.equal(await canI(['create', 'pods', '-n', 'default', `--as=${controller}`]), 'no');
    assert.equal(await canI(['delete', 'namespaces', `--as=${controller}`]), 'no');
    assert.equal(await canI(['create', 'configmaps', '-n', 'team', `--as=${controller}`]), 'no');
    assert.equal(await canI(['create', 'configmaps', '-n', SYSTEM_NS, `--as=${controller}`]), 'yes');
    const bootstrap = `system:serviceaccount:${SYSTEM_NS}:rbac-bootstrap`;
    assert.equal(await canI(['update', 'meshconfigs.config.flomesh.io', '-n', SYSTEM_NS, `--as=${bootstrap}`]), 'yes');
    assert.equal(await canI(['get', 'secrets', '-n', SYSTEM_NS, `--as=${bootstrap}`]), 'no');
    assert.equal(await canI(['list', 'pods', '-A', `--as=system:serviceaccount:${SYSTEM_NS}:rbac-injector`]), 'no');

    // the controller's pod holds its projected token (0600, bound to the pod) and did its work with it
    const pod = await eventually(async () => (await ok(['get', 'pods', '-n', SYSTEM_NS, '-l', 'app=rbac-controller', '-o', 'jsonpath={.items[0].metadata.name}'])) || undefined, 30_000, 'the controller pod');
    const dir = join(mesh.stateDir, 'pods', SYSTEM_NS, pod, 'serviceaccount');
    const { statSync } = await import('node:fs');
    assert.equal(statSync(join(dir, 'token')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'namespace'), 'utf8'), SYSTEM_NS);
    assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), readFileSync(join(mesh.stateDir, 'pki', 'ca.crt'), 'utf8'));
    const claims = claimsOf(readFileSync(join(dir, 'token'), 'utf8'));
    assert.equal(claims['sub'], controller);
    assert.equal(claims['kubernetes.io'].pod.name, pod);
    assert.equal(claims['exp'] - claims['iat'], 3607);
    await eventually(async () => (await k(['get', 'configmap', 'rbac-ca-trust-bundle', '-n', SYSTEM_NS])).code === 0, 30_000, 'the controller (as its ServiceAccount) to write the trust bundle');
    const logs = await ok(['logs', pod, '-n', SYSTEM_NS]);
    assert.match(logs, /resources synced/);
    assert.doesNotMatch(logs, /forbidden|Unauthorized/i);

    // mesh.json's per-run secret is no API credential any more
    const meshFile = JSON.parse(readFileSync(join(mesh.stateDir, 'mesh.json'), 'utf8')) as { apiToken: string };
    assert.equal(await bearerRequest('/api/v1/namespaces', meshFile.apiToken), 401);
  });

  it('a pod gets its ServiceAccount token as Kubernetes mounts it, valid while the pod lives', async () => {
    await ok(['create', 'serviceaccount', 'reader', '-n', 'team']);
    await ok(['create', 'rolebinding', 'reader-view', '--clusterrole=view', '--serviceaccount=team:reader', '-n', 'team']);
    const deployment = (name: string, automount?: boolean): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: team }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
      annotations:
        local.tessera.dev/command: 'echo "dir=$TESSERA_SERVICEACCOUNT_DIR ns=$(cat $TESSERA_SERVICEACCOUNT_DIR/namespace 2>/dev/null)"; echo "token=$(cat $TESSERA_SERVICEACCOUNT_DIR/token 2>/dev/null)"; exec sleep 3600'
    spec:
      serviceAccountName: reader
${automount === undefined ? '' : `      automountServiceAccountToken: ${automount}\n`}      containers: [{ name: app, image: busybox }]
`;
    await ok(['apply', '-f', '-'], { input: deployment('reader') });
    await ok(['apply', '-f', '-'], { input: deployment('no-token', false) });
    const podOf = (app: string) => eventually(async () => (await ok(['get', 'pods', '-n', 'team', '-l', `app=${app}`, '-o', 'jsonpath={.items[0].metadata.name}'])) || undefined, 30_000, `the ${app} pod`);
    const pod = await podOf('reader');
    const logs = await eventually(async () => {
      const r = await k(['logs', pod, '-n', 'team']);
      return r.code === 0 && /token=/.test(r.stdout) ? r.stdout : undefined;
    }, 30_000, 'the reader pod to print its token');
    assert.match(logs, /^dir=\S+ ns=team$/m);
    const token = /^token=(\S+)$/m.exec(logs)?.[1];
    assert.ok(token, logs);
    const claims = claimsOf(token);
    assert.equal(claims['sub'], 'system:serviceaccount:team:reader');
    assert.deepEqual(claims['aud'], ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(claims['kubernetes.io'].pod.name, pod);
    const config = kubeconfigFor(mesh, 'reader', { token });
    const who = await k(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { config });
    if (who.code === 0) assert.equal(who.stdout, 'system:serviceaccount:team:reader');
    assert.match(await ok(['get', 'pods', '-n', 'team'], { config }), new RegExp(`^${pod}\\s`, 'm'));
    await forbidden(['get', 'secrets', '-n', 'team'], config, 'secrets is forbidden: User "system:serviceaccount:team:reader" cannot list resource "secrets" in API group "" in the namespace "team"');

    // automountServiceAccountToken: false — nothing mounted
    const bare = await podOf('no-token');
    const bareLogs = await eventually(async () => {
      const r = await k(['logs', bare, '-n', 'team']);
      return r.code === 0 && /token=/.test(r.stdout) ? r.stdout : undefined;
    }, 30_000, 'the no-token pod to start');
    assert.match(bareLogs, /^dir= ns=$/m);
    assert.match(bareLogs, /^token=$/m);

    // the pod goes: its token goes with it
    await ok(['delete', 'deployment', 'reader', '-n', 'team']);
    await eventually(async () => {
      const r = await k(['get', 'pods', '-n', 'team'], { config });
      return r.code !== 0 && /Unauthorized/.test(r.stderr);
    }, 30_000, 'the pod token to stop working once its pod is gone');
  });

  it('impersonation (kubectl --as): allowed by the impersonate verb, then authorized as the impersonated user', async () => {
    // the admin (system:masters) may impersonate anyone; jane is bound to view in team (above)
    assert.match(await ok(['get', 'configmaps', '-n', 'team', '--as=jane']), /^settings\s/m);
    await forbidden(['get', 'configmaps', '-n', 'other', '--as=jane'], join(mesh.stateDir, 'kubeconfig'), 'configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "other"');
    assert.equal((await k(['auth', 'can-i', 'list', 'pods', '-n', 'team', '--as=jane'])).stdout.trim(), 'yes');
    assert.equal((await k(['auth', 'can-i', 'delete', 'configmaps', '-n', 'team', '--as=jane'])).stdout.trim(), 'no');
    // a group of one's own choosing counts (developers bound to edit in other)
    await ok(['create', 'rolebinding', 'developers-edit', '--clusterrole=edit', '--group=developers', '-n', 'other']);
    assert.equal((await k(['auth', 'can-i', 'delete', 'configmaps', '-n', 'other', '--as=bob', '--as-group=developers'])).stdout.trim(), 'yes');
    assert.equal((await k(['auth', 'can-i', 'delete', 'configmaps', '-n', 'other', '--as=bob'])).stdout.trim(), 'no');

    // jane may not impersonate: refused with kube-apiserver's message
    await forbidden(['get', 'pods', '-n', 'team', '--as=bob'], janeConfig, 'users "bob" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope');
    await forbidden(['get', 'pods', '-n', 'team', '--as=system:serviceaccount:team:reader'], janeConfig, 'serviceaccounts "reader" is forbidden: User "jane" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team"');
    // …until RBAC grants the verb, for bob only (and not his groups)
    await ok(['create', 'clusterrole', 'impersonate-bob', '--verb=impersonate', '--resource=users', '--resource-name=bob']);
    await ok(['create', 'clusterrolebinding', 'jane-impersonates-bob', '--clusterrole=impersonate-bob', '--user=jane']);
    await eventually(async () => (await k(['get', 'pods', '-n', 'team', '--as=bob'], { config: janeConfig })).stderr.includes('User "bob" cannot list'), 10_000, 'jane to impersonate bob');
    await forbidden(['get', 'pods', '-n', 'team', '--as=bob'], janeConfig, 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "team"');
    await forbidden(['get', 'pods', '-n', 'team', '--as=carol'], janeConfig, 'users "carol" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope');
    await forbidden(['get', 'pods', '-n', 'team', '--as=bob', '--as-group=developers'], janeConfig, 'groups "developers" is forbidden: User "jane" cannot impersonate resource "groups" in API group "" at the cluster scope');
    const whoami = await k(['auth', 'whoami', '-o', 'json', '--as=bob'], { config: janeConfig });
    if (whoami.code === 0) assert.deepEqual((JSON.parse(whoami.stdout) as { status: { userInfo: unknown } }).status.userInfo, { username: 'bob', groups: ['system:authenticated'] });
  });

  it('TokenReview, SubjectAccessReview and LocalSubjectAccessReview', async () => {
    const review = async (path: string, body: object, config?: string): Promise<Record<string, any>> =>
      JSON.parse(await ok(['create', '--raw', path, '-f', '-'], { input: JSON.stringify(body), ...(config ? { config } : {}) })) as Record<string, any>;
    await ok(['create', 'serviceaccount', 'checker', '-n', 'team']);
    const token = (await ok(['create', 'token', 'checker', '-n', 'team'])).trim();
    const tr = await review('/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    assert.equal(tr['kind'], 'TokenReview');
    assert.equal(tr['status'].authenticated, true);
    assert.equal(tr['status'].user.username, 'system:serviceaccount:team:checker');
    assert.deepEqual(tr['status'].user.groups, ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated']);
    assert.deepEqual(tr['status'].audiences, ['https://kubernetes.default.svc.cluster.local']);
    const other = (await ok(['create', 'token', 'checker', '-n', 'team', '--audience=vault'])).trim();
    const forVault = await review('/apis/authentication.k8s.io/v1/tokenreviews', { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', spec: { token: other, audiences: ['vault'] } });
    assert.equal(forVault['status'].authenticated, true);
    assert.deepEqual(forVault['status'].audiences, ['vault']);
    const notForApi = await review('/apis/authentication.k8s.io/v1/tokenreviews', { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', spec: { token: other } });
    assert.notEqual(notForApi['status'].authenticated, true);
    const bad = await review('/apis/authentication.k8s.io/v1/tokenreviews', { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', spec: { token: 'not-a-token' } });
    assert.notEqual(bad['status'].authenticated, true);
    assert.ok(bad['status'].error);

    const sar = (verb: string, namespace: string) => ({
      kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1',
      spec: { user: 'jane', groups: ['developers'], resourceAttributes: { verb, resource: 'configmaps', namespace } },
    });
    assert.equal((await review('/apis/authorization.k8s.io/v1/subjectaccessreviews', sar('list', 'team')))['status'].allowed, true);
    assert.equal((await review('/apis/authorization.k8s.io/v1/subjectaccessreviews', sar('delete', 'team')))['status'].allowed, false);
    const local = await review('/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews', { ...sar('get', 'team'), kind: 'LocalSubjectAccessReview' });
    assert.equal(local['status'].allowed, true);
    assert.equal(local['metadata'].namespace, 'team');
    const mismatch = await k(['create', '--raw', '/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews', '-f', '-'], { input: JSON.stringify({ ...sar('get', 'other'), kind: 'LocalSubjectAccessReview' }) });
    assert.notEqual(mismatch.code, 0);
    assert.match(mismatch.stderr, /must match metadata\.namespace/);
    // jane may not ask about others
    const refused = await k(['create', '--raw', '/apis/authorization.k8s.io/v1/subjectaccessreviews', '-f', '-'], { input: JSON.stringify(sar('list', 'team')), config: janeConfig });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /subjectaccessreviews\.authorization\.k8s\.io is forbidden: User "jane" cannot create resource "subjectaccessreviews" in API group "authorization\.k8s\.io" at the cluster scope/);
  });

  it('anonymous requests: 401 except health and version', async () => {
    const api = kubeApi(mesh);
    assert.equal((await api.request('GET', '/api/v1/namespaces', { credentials: false })).status, 401);
    assert.equal((await api.request('GET', '/version', { credentials: false })).status, 200);
    assert.equal((await api.request('GET', '/healthz', { credentials: false })).status, 200);
  });
});

// ---------------------------------------------------------------------------------------------
// OIDC: a real OpenID provider (oidc-provider) over HTTPS, trusted through --oidc-ca-file.

const OIDC_AUDIENCE = 'kubernetes';

/**
 * oidc-provider on https://127.0.0.1 (a certificate of a CA of its own), issuing JWT access tokens by
 * the client credentials grant with the claims an id token of the book's FusionAuth carries (email,
 * email_verified, roles); `claims` decides them for the next token.
 */
class HttpsProvider {
  issuer = '';
  caFile = '';
  claims: Record<string, unknown> = {};
  private server: import('node:https').Server | undefined;
  private readonly secret = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);

  async start(dir: string): Promise<void> {
    const { createServer } = await import('node:https');
    const { ensureClusterPki } = await import('../../src/local/pki/index.js');
    const { default: Provider } = await import('oidc-provider');
    const { generateKeyPairSync } = await import('node:crypto');
    const pki = await ensureClusterPki(dir, 'oidc-test', ['127.0.0.1']);
    this.caFile = join(dir, 'oidc-ca.crt');
    writeFileSync(this.caFile, pki.ca.cert);
    const server = createServer({ cert: pki.server.cert, key: pki.server.key });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.issuer = `https://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const provider = new Provider(this.issuer, {
      clients: [{ client_id: 'kubectl', client_secret: this.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' }],
      jwks: { keys: [{ ...(rsa.export({ format: 'jwk' }) as object), kid: 'k1', alg: 'RS256', use: 'sig' }] },
      cookies: { keys: ['0123456789abcdef'] },
      extraTokenClaims: () => this.claims,
      features: {
        clientCredentials: { enabled: true },
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => 'https://kubernetes.tessera.test/',
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => ({
            scope: 'openid', audience: indicator === 'https://other.tessera.test/' ? 'other' : OIDC_AUDIENCE,
            // the "short" resource's tokens live one second: an expired token for the right audience
            accessTokenTTL: indicator === 'https://short.tessera.test/' ? 1 : 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
    });
    server.on('request', provider.callback());
  }

  /** A token with `claims`, for `resource` (another audience with the other resource). */
  async token(claims: Record<string, unknown>, resource = 'https://kubernetes.tessera.test/'): Promise<string> {
    this.claims = claims;
    const { request } = await import('node:https');
    const body = new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'openid' }).toString();
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${this.issuer}/token`, {
        method: 'POST', ca: readFileSync(this.caFile, 'utf8'),
        headers: { authorization: `Basic ${Buffer.from(`kubectl:${this.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve(t));
      });
      req.on('error', reject);
      req.end(body);
    });
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.ok(typeof parsed['access_token'] === 'string', text);
    return parsed['access_token'] as string;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('OIDC id tokens (tessera up --oidc-…) with a real OpenID provider over HTTPS', { skip: NEWEST ? false : 'no kubectl on this machine', timeout: 600_000 }, () => {
  let mesh: TestMesh;
  const provider = new HttpsProvider();
  let providerDir = '';

  const k = (args: string[], config: string): Promise<RunResult> => {
    const home = `${config}-home`;
    mkdirSync(home, { recursive: true });
    return run(NEWEST!.path, args, { env: { ...process.env, KUBECONFIG: config, HOME: home }, timeoutMs: 60_000 });
  };
  const admin = (args: string[]): Promise<RunResult> => k(args, join(mesh.stateDir, 'kubeconfig'));

  before(async () => {
    providerDir = mkdtempSync(join(tmpdir(), 'tessera-oidc-provider-'));
    await provider.start(providerDir);
    mesh = await startKubectlMesh('oidc', [
      '--oidc-issuer-url', provider.issuer, '--oidc-client-id', OIDC_AUDIENCE, '--oidc-ca-file', provider.caFile,
      '--oidc-username-claim', 'email', '--oidc-groups-claim', 'roles', '--oidc-groups-prefix', 'oidc:',
      '--oidc-required-claim', 'tenant=tessera', '--oidc-signing-algs', 'RS256',
    ]);
  });
  after(async () => {
    await mesh?.stop();
    await provider.close();
    rmSync(providerDir, { recursive: true, force: true });
  });

  it('an http issuer is refused by tessera up', async () => {
    const r = await mesh.tessera(['up', '--mesh-name', 'oidc', '--detach', '--oidc-issuer-url', 'http://127.0.0.1:1', '--oidc-client-id', 'x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /oidc-issuer-url \(http:\/\/127\.0\.0\.1:1\) must use https scheme/);
  });

  it('maps email and roles (with the prefix) and RBAC decides', async () => {
    const bindings = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: oidc-cluster-admin }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "oidc:admin" }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: oidc-cluster-viewer }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "oidc:viewer" }]
`;
    const apply = await run(NEWEST!.path, ['apply', '-f', '-'], { env: { ...process.env, KUBECONFIG: join(mesh.stateDir, 'kubeconfig'), HOME: join(mesh.stateDir, 'h') }, input: bindings });
    assert.equal(apply.code, 0, apply.stderr);
    assert.deepEqual(apply.stdout.trim().split('\n'), ['clusterrolebinding.rbac.authorization.k8s.io/oidc-cluster-admin created', 'clusterrolebinding.rbac.authorization.k8s.io/oidc-cluster-viewer created']);
    assert.equal((await admin(['create', 'configmap', 'c', '-n', 'default', '--from-literal=a=b'])).code, 0);

    const viewer = kubeconfigFor(mesh, 'viewer', { token: await provider.token({ email: 'viewer@example.com', email_verified: true, roles: ['viewer'], tenant: 'tessera' }) });
    const got = await k(['get', 'configmap', 'c', '-n', 'default', '-o', 'jsonpath={.data.a}'], viewer);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, 'b');
    const del = await k(['delete', 'configmap', 'c', '-n', 'default'], viewer);
    assert.equal(del.stderr.trim(), 'Error from server (Forbidden): configmaps "c" is forbidden: User "viewer@example.com" cannot delete resource "configmaps" in API group "" in the namespace "default"');
    assert.equal((await k(['auth', 'can-i', 'delete', 'configmaps'], viewer)).stdout.trim(), 'no');
    const who = await k(['auth', 'whoami', '-o', 'json'], viewer);
    if (who.code === 0) assert.deepEqual(JSON.parse(who.stdout).status.userInfo, { username: 'viewer@example.com', groups: ['oidc:viewer', 'system:authenticated'] });

    const adminUser = kubeconfigFor(mesh, 'oidc-admin', { token: await provider.token({ email: 'admin@example.com', email_verified: true, roles: ['admin'], tenant: 'tessera' }) });
    assert.equal((await k(['auth', 'can-i', 'delete', 'configmaps'], adminUser)).stdout.trim(), 'yes');
    const d = await k(['delete', 'configmap', 'c', '-n', 'default'], adminUser);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout.trim(), 'configmap "c" deleted');
  });

  it('refuses (401) other audiences, unverified email, a missing required claim, expired tokens, other issuers and tampered tokens', async () => {
    const unauthorized = async (token: string, what: string): Promise<void> => {
      const r = await k(['get', 'configmaps'], kubeconfigFor(mesh, 'refused', { token }));
      assert.notEqual(r.code, 0, what);
      // kubectl words a 401 as "Unauthorized" or, before it has discovery, "the server has asked for the client to provide credentials"
      assert.match(r.stderr, /You must be logged in to the server \(Unauthorized\)|the server has asked for the client to provide credentials/, what);
    };
    const good = { email: 'viewer@example.com', email_verified: true, roles: ['viewer'], tenant: 'tessera' };
    await unauthorized(await provider.token(good, 'https://other.tessera.test/'), 'another audience');
    await unauthorized(await provider.token({ ...good, email_verified: false }), 'email_verified false');
    await unauthorized(await provider.token({ ...good, tenant: 'other' }), 'required claim with another value');
    const { tenant: _t, ...noTenant } = good;
    await unauthorized(await provider.token(noTenant), 'required claim missing');
    const t = await provider.token(good);
    const [h, p, s] = t.split('.');
    const payload = { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), email: 'admin@example.com', roles: ['admin'] };
    await unauthorized(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`, 'tampered');
    const short = await provider.token(good, 'https://short.tessera.test/');
    assert.equal(JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString()).aud, OIDC_AUDIENCE, 'the short-lived token is for the API');
    await new Promise((r) => setTimeout(r, 2500));
    await unauthorized(short, 'expired');
    // the same claims and audience, signed by another issuer the API server was not configured with
    const other = new HttpsProvider();
    const otherDir = mkdtempSync(join(tmpdir(), 'tessera-oidc-other-'));
    try {
      await other.start(otherDir);
      await unauthorized(await other.token(good), 'another issuer');
    } finally {
      await other.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
