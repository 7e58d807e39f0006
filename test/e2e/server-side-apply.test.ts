/**
 * Server-side apply on `tessera up`'s Kubernetes API with the real kubectl (the oldest, Debian's
 * 1.20, and the newest on the machine): `kubectl apply --server-side` of a ConfigMap, a Service (an
 * associative list keyed by port and protocol) and a custom resource (an AccessControl), re-applies
 * that drop fields, a second field manager's conflict and `--force-conflicts`, dry run, and the
 * managedFields kubectl shows. The raw API answers what kubectl never sends (no fieldManager).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunResult, type TestMesh } from '../support/mesh.js';
import { kubeApi, kubectl as runKubectl, kubectlBinaries, missingKubectls, startKubectlMesh } from '../support/kubectl.js';

for (const m of missingKubectls()) {
  describe(`server-side apply (kubectl ${m.role})`, { skip: m.skip }, () => {
    it('applies on tessera up', () => undefined);
  });
}

interface ManagedFieldsEntry { manager: string; operation: string; apiVersion: string; time: string; fieldsType: string; fieldsV1: Record<string, any>; subresource?: string }

const cm = (data: Record<string, string>): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ssa
  labels: { app: demo }
data:
${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}
`;

const svc = (ports: number[]): string => `apiVersion: v1
kind: Service
metadata: { name: web, namespace: ssa }
spec:
  selector: { app: web }
  ports:
${ports.map((p) => `  - { name: p${p}, port: ${p}, targetPort: ${p} }`).join('\n')}
`;

const acl = (first: boolean): string => `apiVersion: policy.flomesh.io/v1alpha1
kind: AccessControl
metadata:
  name: web
  namespace: ssa
${first ? '  labels: { tier: web }\n' : ''}spec:
  backends:
  - name: web
    port: { number: 8080, protocol: http }
  sources:
  - { kind: IPRange, name: 10.0.0.0/8 }
${first ? '  - { kind: IPRange, name: 192.168.0.0/16 }\n' : ''}`;

for (const bin of kubectlBinaries()) {
  describe(`server-side apply with kubectl ${bin.version} (${bin.gitVersion}) against tessera up`, { timeout: 300_000 }, () => {
    let mesh: TestMesh;
    const k = (args: string[], input?: string): Promise<RunResult> => runKubectl(mesh, args, { bin, ...(input !== undefined ? { input } : {}) });
    const ok = async (args: string[], input?: string): Promise<string> => {
      const r = await k(args, input);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r.stdout;
    };
    // kubectl hides managedFields since 1.21 unless asked; 1.20 has no such flag and always shows them
    const showManaged = bin.version === '1.20' ? [] : ['--show-managed-fields'];
    const getJson = async (what: string[]): Promise<any> => JSON.parse(await ok(['get', ...what, '-n', 'ssa', '-o', 'json', ...showManaged]));
    const managers = (obj: any): Record<string, ManagedFieldsEntry> =>
      Object.fromEntries((obj.metadata.managedFields as ManagedFieldsEntry[]).map((e) => [`${e.manager}/${e.operation}`, e]));

    before(async () => {
      mesh = await startKubectlMesh();
      await ok(['create', 'namespace', 'ssa']);
    });
    after(async () => {
      await mesh?.stop();
    });

    it('creates a ConfigMap, records the Apply manager, and removes a field dropped on re-apply', async () => {
      assert.match(await ok(['apply', '--server-side', '-f', '-'], cm({ a: '1', b: '2' })), /configmap\/settings serverside-applied/);
      let obj = await getJson(['configmap', 'settings']);
      assert.deepEqual(obj.data, { a: '1', b: '2' });
      const applied = managers(obj)['kubectl/Apply'];
      assert.ok(applied, JSON.stringify(obj.metadata.managedFields));
      assert.equal(applied.apiVersion, 'v1');
      assert.equal(applied.fieldsType, 'FieldsV1');
      assert.match(applied.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(applied.fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } });

      await ok(['apply', '--server-side', '-f', '-'], cm({ a: '1' }));
      obj = await getJson(['configmap', 'settings']);
      assert.deepEqual(obj.data, { a: '1' }, 'b, applied before and no longer, is removed');
      assert.deepEqual(managers(obj)['kubectl/Apply']!.fieldsV1, { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } });
    });

    it('a second field manager conflicts (409), then takes the field with --force-conflicts', async () => {
      const r = await k(['apply', '--server-side', '--field-manager=other', '-f', '-'], cm({ a: '9' }));
      assert.notEqual(r.code, 0);
      // an Apply manager is named without a version, as kube-apiserver names it
      assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.a/);
      assert.equal((await getJson(['configmap', 'settings'])).data.a, '1', 'a refused apply changes nothing');

      await ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], cm({ a: '9' }));
      const obj = await getJson(['configmap', 'settings']);
      assert.equal(obj.data.a, '9');
      const m = managers(obj);
      assert.deepEqual(m['other/Apply']!.fieldsV1, { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } });
      assert.deepEqual(m['kubectl/Apply']!.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:app': {} } } }, 'ownership of .data.a moved');
    });

    it('an ordinary write records an Update entry for its manager', async () => {
      await ok(['label', 'configmap', 'settings', '-n', 'ssa', 'extra=yes']);
      const entries = (await getJson(['configmap', 'settings'])).metadata.managedFields as ManagedFieldsEntry[];
      const update = entries.find((e) => e.operation === 'Update' && e.fieldsV1['f:metadata']?.['f:labels']?.['f:extra']);
      assert.ok(update, JSON.stringify(entries));
      assert.match(update.manager, /^kubectl/);
      const ns = JSON.parse(await ok(['get', 'namespace', 'ssa', '-o', 'json', ...showManaged]));
      assert.ok((ns.metadata.managedFields as ManagedFieldsEntry[]).some((e) => e.operation === 'Update' && /^kubectl/.test(e.manager)), 'kubectl create records its manager');
    });

    it('a field an ordinary create wrote conflicts with its Update manager, named with its version', async () => {
      await ok(['create', 'configmap', 'plain', '-n', 'ssa', '--from-literal=x=1']);
      const plain = (x: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: plain, namespace: ssa }\ndata: { x: "${x}" }\n`;
      const r = await k(['apply', '--server-side', '-f', '-'], plain('2'));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl[-\w]*" using v1: \.data\.x/);
      // the same value is no conflict: the field is shared
      await ok(['apply', '--server-side', '-f', '-'], plain('1'));
      const m = managers(await getJson(['configmap', 'plain']));
      assert.deepEqual(m['kubectl/Apply']!.fieldsV1, { 'f:data': { 'f:x': {} } });
      assert.ok(Object.keys(m).some((key) => key.endsWith('/Update')), JSON.stringify(m));
    });

    it('merges a Service\'s ports by port and protocol, and removes the one no longer applied', async () => {
      await ok(['apply', '--server-side', '-f', '-'], svc([80, 443]));
      let obj = await getJson(['service', 'web']);
      assert.deepEqual(obj.spec.ports.map((p: any) => p.port), [80, 443]);
      const fields = managers(obj)['kubectl/Apply']!.fieldsV1;
      assert.ok(fields['f:spec']['f:ports']['k:{"port":80,"protocol":"TCP"}'], JSON.stringify(fields));
      await ok(['apply', '--server-side', '-f', '-'], svc([443]));
      obj = await getJson(['service', 'web']);
      assert.deepEqual(obj.spec.ports.map((p: any) => p.port), [443]);
      assert.ok(obj.spec.clusterIP, 'fields the apply does not name (the allocated clusterIP) stay');
    });

    it('applies a custom resource, removes a dropped field, and dry run stores nothing', async () => {
      assert.match(await ok(['apply', '--server-side', '-f', '-'], acl(true)), /accesscontrol\.policy\.flomesh\.io\/web serverside-applied/);
      let obj = await getJson(['accesscontrol', 'web']);
      assert.equal(obj.spec.sources.length, 2);
      assert.ok(managers(obj)['kubectl/Apply']!.fieldsV1['f:metadata']['f:labels']['f:tier']);

      const dry = await ok(['apply', '--server-side', '--dry-run=server', '-f', '-'], acl(false));
      assert.match(dry, /serverside-applied \(server dry run\)/);
      assert.equal((await getJson(['accesscontrol', 'web'])).metadata.labels?.tier, 'web', 'a dry run stores nothing');

      await ok(['apply', '--server-side', '-f', '-'], acl(false));
      obj = await getJson(['accesscontrol', 'web']);
      assert.equal(obj.metadata.labels?.tier, undefined, 'the label applied before and no longer is removed');
      assert.deepEqual(obj.spec.sources, [{ kind: 'IPRange', name: '10.0.0.0/8' }], 'a list without a list type is atomic: replaced');
      assert.equal(obj.spec.backends[0].name, 'web');
    });

    it('kubectl get -o yaml shows managedFields', async () => {
      const args = ['get', 'configmap', 'settings', '-n', 'ssa', '-o', 'yaml', ...showManaged];
      const out = await ok(args);
      assert.match(out, /managedFields:/);
      assert.match(out, /manager: other\n\s+operation: Apply/);
      assert.match(out, /fieldsType: FieldsV1/);
    });

    it('the raw API: no fieldManager is 422, force on a merge patch is 422, a status apply owns status only', async () => {
      const api = kubeApi(mesh);
      const path = '/api/v1/namespaces/ssa/configmaps/raw';
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'raw' }, data: { x: '1' } });
      const missing = await api.request('PATCH', path, { body, contentType: 'application/apply-patch+yaml' });
      assert.equal(missing.status, 422);
      assert.equal(missing.json.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
      const created = await api.request('PATCH', `${path}?fieldManager=raw`, { body, contentType: 'application/apply-patch+yaml' });
      assert.equal(created.status, 201, created.text);
      const forced = await api.request('PATCH', `${path}?force=true`, { body: '{"data":{"x":"2"}}', contentType: 'application/merge-patch+json' });
      assert.equal(forced.status, 422);
      assert.match(forced.json.message, /force: Forbidden: may not be specified for non-apply patch/);
      const conflict = await api.request('PATCH', `${path}?fieldManager=raw2`, { body: body.replace('"x":"1"', '"x":"3"'), contentType: 'application/apply-patch+yaml' });
      assert.equal(conflict.status, 409);
      assert.equal(conflict.json.reason, 'Conflict');
      assert.deepEqual(conflict.json.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "raw"', field: '.data.x' }]);

      // a status apply: status is all it changes and owns, whatever else the body says
      const aclPath = '/apis/policy.flomesh.io/v1alpha1/namespaces/ssa/accesscontrols/web';
      const statusBody = JSON.stringify({ apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name: 'web', labels: { ignored: 'yes' } }, spec: { backends: [] }, status: { currentStatus: 'applied' } });
      const st = await api.request('PATCH', `${aclPath}/status?fieldManager=status-writer`, { body: statusBody, contentType: 'application/apply-patch+yaml' });
      assert.equal(st.status, 200, st.text);
      assert.equal(st.json.status.currentStatus, 'applied');
      assert.equal(st.json.spec.backends.length, 1);
      assert.equal(st.json.metadata.labels?.ignored, undefined);
      const entry = (st.json.metadata.managedFields as ManagedFieldsEntry[]).find((e) => e.manager === 'status-writer')!;
      assert.equal(entry.subresource, 'status');
      assert.deepEqual(entry.fieldsV1, { 'f:status': { 'f:currentStatus': {} } });
    });
  });
}
