import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { strategicSchemaFor } from '../patch/index.js';
import {
  apply, applyUpgradingClientSide, ApplyConfigError, builtinExtras, conflictMessage, undeclaredField, FieldSet, fieldsOf, fromJsonSchema, fromStrategic, managedFieldsAfterUpdate, mergeApplied, OBJECT_META, overlay,
  type ApplySchema, type Operation,
} from './index.js';

const POD_SCHEMA: ApplySchema = fromStrategic(strategicSchemaFor('', 'Pod')!);
const CM_SCHEMA: ApplySchema = overlay({}, { fields: { metadata: OBJECT_META } });

function op(manager: string, schema: ApplySchema = CM_SCHEMA, subresource = '', statusSplit = false): Operation {
  return { manager, apiVersion: 'v1', now: '2026-01-01T00:00:00Z', scope: { subresource, statusSplit }, schema };
}

function ok(r: ReturnType<typeof apply>): { object: Record<string, unknown>; managedFields: ReturnType<typeof managedFieldsAfterUpdate> } {
  assert.equal(r.ok, true, r.ok ? '' : conflictMessage(r.conflicts));
  return r as Extract<typeof r, { ok: true }>;
}

function withFields(obj: Record<string, unknown>, managedFields: unknown): Record<string, unknown> {
  return { ...obj, metadata: { ...(obj.metadata as object), managedFields } };
}

const cm = (data: Record<string, string>, labels?: Record<string, string>): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd', ...(labels ? { labels } : {}) }, data,
});

describe('FieldSet', () => {
  it('reads and writes FieldsV1 with "." for members that have members below', () => {
    const json = { 'f:data': { 'f:a': {} }, 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } };
    const s = FieldSet.fromFieldsV1(json);
    assert.deepEqual(s.toFieldsV1(), json);
    assert.equal(s.has(['f:spec', 'f:containers', 'k:{"name":"app"}']), true);
    assert.equal(s.has(['f:spec', 'f:containers']), false);
    assert.throws(() => FieldSet.fromFieldsV1({ 'x:y': {} }), TypeError);
  });

  it('keys associative-list items by their key fields in name order, with defaults filled in', () => {
    const pod = { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }], args: ['x'] }] } };
    const f = fieldsOf(pod, POD_SCHEMA).toFieldsV1();
    assert.deepEqual(f, {
      'f:spec': { 'f:containers': { 'k:{"name":"app"}': {
        '.': {}, 'f:args': {}, 'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } }, 'f:name': {},
        'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
      } } },
    });
  });
});

describe('mergeApplied', () => {
  it('merges maps and associative lists, replaces atomic lists, unions sets', () => {
    const live = { metadata: { finalizers: ['a'] }, spec: { containers: [{ name: 'app', image: 'v1', args: ['1', '2'] }, { name: 'side', image: 's' }] } };
    const applied = { metadata: { finalizers: ['b'] }, spec: { containers: [{ name: 'app', image: 'v2', args: ['3'] }, { name: 'new', image: 'n' }] } };
    assert.deepEqual(mergeApplied(live, applied, overlay(POD_SCHEMA, { fields: { metadata: OBJECT_META } })), {
      metadata: { finalizers: ['a', 'b'] },
      spec: { containers: [{ name: 'app', image: 'v2', args: ['3'] }, { name: 'side', image: 's' }, { name: 'new', image: 'n' }] },
    });
  });
});

describe('apply', () => {
  it('creates: the manager owns exactly what it applied', () => {
    const r = ok(apply(undefined, cm({ a: '1' }, { app: 'x' }), op('alice'), false));
    assert.deepEqual(r.object.data, { a: '1' });
    assert.deepEqual(r.managedFields, [{
      manager: 'alice', operation: 'Apply', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1',
      fieldsV1: { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } },
    }]);
  });

  it('removes a field the manager no longer applies, but not one another manager also owns', () => {
    const first = ok(apply(undefined, cm({ a: '1', b: '2', c: '3' }), op('alice'), false));
    let live = withFields(first.object, first.managedFields);
    // bob applies c with the same value: shared ownership, no conflict
    const shared = ok(apply(live, cm({ c: '3' }), op('bob'), false));
    live = withFields(shared.object, shared.managedFields);
    const again = ok(apply(live, cm({ a: '1' }), op('alice'), false));
    assert.deepEqual(again.object.data, { a: '1', c: '3' });
    const alice = again.managedFields.find((m) => m.manager === 'alice')!;
    assert.deepEqual(alice.fieldsV1, { 'f:data': { 'f:a': {} } });
  });

  it('removes associative-list items by key and leaves other items alone', () => {
    const schema = overlay(POD_SCHEMA, { fields: { metadata: OBJECT_META } });
    const pod = (names: string[]): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: names.map((name) => ({ name, image: `${name}:1` })) } });
    const first = ok(apply(undefined, pod(['a', 'b']), op('alice', schema), false));
    const second = ok(apply(withFields(first.object, first.managedFields), pod(['b']), op('alice', schema), false));
    assert.deepEqual((second.object.spec as { containers: unknown[] }).containers, [{ name: 'b', image: 'b:1' }]);
  });

  it('answers conflicts on fields another manager owns with a different value; force moves ownership', () => {
    const first = ok(apply(undefined, cm({ a: '1', b: '2' }), op('alice'), false));
    const live = withFields(first.object, first.managedFields);
    const r = apply(live, cm({ a: '9', b: '2' }), op('bob'), false);
    assert.equal(r.ok, false);
    if (r.ok) return;
    // an Apply manager is named alone; an Update manager with the version it wrote
    assert.equal(conflictMessage(r.conflicts), 'Apply failed with 1 conflict: conflict with "alice": .data.a');
    const forced = ok(apply(live, cm({ a: '9', b: '2' }), op('bob'), true));
    assert.deepEqual(forced.object.data, { a: '9', b: '2' });
    const byManager = Object.fromEntries(forced.managedFields.map((m) => [m.manager, m.fieldsV1]));
    assert.deepEqual(byManager, { alice: { 'f:data': { 'f:b': {} } }, bob: { 'f:data': { 'f:a': {}, 'f:b': {} } } });
  });

  it('words several conflicts as kube-apiserver does', () => {
    const msg = conflictMessage([
      { manager: 'm', operation: 'Update', subresource: '', apiVersion: 'apps/v1', path: ['f:spec', 'f:replicas'] },
      { manager: 'm', operation: 'Update', subresource: '', apiVersion: 'apps/v1', path: ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"app"}', 'f:image'] },
    ]);
    assert.equal(msg, 'Apply failed with 2 conflicts: conflicts with "m" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="app"].image');
  });

  it('gives an untracked object\'s fields to before-first-apply, so changing them conflicts', () => {
    const r = apply(cm({ a: '1' }), cm({ a: '2' }), op('alice'), false);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(conflictMessage(r.conflicts), /conflict with "before-first-apply" using v1: \.data\.a/);
  });

  it('lets kubectl take over what client-side apply last set and nobody changed since', () => {
    const last = JSON.stringify(cm({ a: '1', b: '2' }));
    const live = withFields({ ...cm({ a: '1', b: '5' }), metadata: { name: 'c', namespace: 'd', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': last } } }, [
      { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: 't', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} } } },
    ]);
    const upgraded = ok(applyUpgradingClientSide(live, cm({ a: '9' }), op('kubectl'), false));
    assert.equal((upgraded.object.data as Record<string, string>).a, '9');
    // b was changed after the client-side apply: still a conflict
    assert.equal(applyUpgradingClientSide(live, cm({ b: '9' }), op('kubectl'), false).ok, false);
    // only for the manager kubectl
    assert.equal(applyUpgradingClientSide(live, cm({ a: '9' }), op('other'), false).ok, false);
  });

  it('leaves a no-op re-apply as it was, timestamps included', () => {
    const first = ok(apply(undefined, cm({ a: '1' }), op('alice'), false));
    const live = withFields(first.object, first.managedFields);
    const again = ok(apply(live, cm({ a: '1' }), { ...op('alice'), now: '2027-01-01T00:00:00Z' }, false));
    assert.deepEqual(again.managedFields, first.managedFields);
  });

  it('keeps status out of the object\'s apply and everything else out of a status apply', () => {
    const obj = { apiVersion: 'x/v1', kind: 'W', metadata: { name: 'w' }, spec: { size: 1 }, status: { ready: true } };
    const main = ok(apply(undefined, obj, op('alice', CM_SCHEMA, '', true), false));
    assert.equal(main.object.status, undefined);
    const st = ok(apply(withFields(main.object, main.managedFields), { ...obj, spec: { size: 5 } }, op('ctl', CM_SCHEMA, 'status', true), false));
    assert.deepEqual(st.object.spec, { size: 1 });
    assert.deepEqual(st.object.status, { ready: true });
    const ctl = st.managedFields.find((m) => m.manager === 'ctl')!;
    assert.equal(ctl.subresource, 'status');
    assert.deepEqual(ctl.fieldsV1, { 'f:status': { 'f:ready': {} } });
  });

  it('treats label selectors of built-in kinds as atomic and records no `.` for their structs', () => {
    const schema = overlay(overlay(fromStrategic(strategicSchemaFor('apps', 'Deployment')!), builtinExtras('apps', 'Deployment')), { fields: { metadata: OBJECT_META } });
    const d = { metadata: { name: 'd', labels: { app: 'd' } }, spec: { selector: { matchLabels: { app: 'd' } }, strategy: { rollingUpdate: { maxSurge: 1 } } } };
    assert.deepEqual(fieldsOf(d, schema).toFieldsV1(), {
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {} }, 'f:spec': { 'f:selector': {}, 'f:strategy': { 'f:rollingUpdate': { 'f:maxSurge': {} } } },
    });
    const [created] = managedFieldsAfterUpdate(undefined, d, op('kubectl-create', schema));
    assert.deepEqual(created!.fieldsV1, {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:selector': {}, 'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {} } } },
    });
  });

  it('honours a CRD schema\'s list types', () => {
    const schema = fromJsonSchema({
      type: 'object',
      properties: { spec: { type: 'object', properties: {
        rules: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' } } } },
        tags: { type: 'array', items: { type: 'string' } },
      } } },
    });
    const live = { spec: { rules: [{ name: 'a', v: 1 }], tags: ['x'] } };
    assert.deepEqual(mergeApplied(live, { spec: { rules: [{ name: 'b', v: 2 }], tags: ['y'] } }, schema), { spec: { rules: [{ name: 'a', v: 1 }, { name: 'b', v: 2 }], tags: ['y'] } });
  });

  it('refuses an associative-list item without its key, and duplicate keys', () => {
    const schema = overlay(POD_SCHEMA, { fields: { metadata: OBJECT_META } });
    assert.throws(() => apply(undefined, { spec: { containers: [{ image: 'x' }] } }, op('a', schema), false), ApplyConfigError);
    assert.throws(() => apply(undefined, { spec: { containers: [{ name: 'x' }, { name: 'x' }] } }, op('a', schema), false), ApplyConfigError);
  });
});

describe('managedFieldsAfterUpdate', () => {
  it('gives the updater what it changed and takes it from the others', () => {
    const first = ok(apply(undefined, cm({ a: '1', b: '2' }), op('alice'), false));
    const live = withFields(first.object, first.managedFields);
    const mf = managedFieldsAfterUpdate(live, cm({ a: '5', b: '2' }), op('kubectl-edit'));
    assert.deepEqual(Object.fromEntries(mf.map((m) => [`${m.manager}/${m.operation}`, m.fieldsV1])), {
      'alice/Apply': { 'f:data': { 'f:b': {} } },
      'kubectl-edit/Update': { 'f:data': { 'f:a': {} } },
    });
  });

  it('takes the managedFields a client sends instead of the stored ones; [{}] clears them', () => {
    const first = ok(apply(undefined, cm({ a: '1' }), op('alice'), false));
    const live = withFields(first.object, first.managedFields);
    const sent = [{ ...first.managedFields[0]!, manager: 'bob' }];
    assert.deepEqual(managedFieldsAfterUpdate(live, cm({ a: '1' }), op('x'), sent).map((m) => m.manager), ['bob']);
    assert.deepEqual(managedFieldsAfterUpdate(live, cm({ a: '1' }), op('x'), [{}]), []);
    assert.deepEqual(managedFieldsAfterUpdate(live, cm({ a: '1' }), op('x'), first.managedFields), first.managedFields, 'the stored ones sent back change nothing');
  });

  it('records a create, and leaves a no-op update alone', () => {
    const created = managedFieldsAfterUpdate(undefined, cm({ a: '1' }), op('kubectl-create'));
    // the map the create brought into existence is owned as such (`.`), as kube-apiserver records it
    assert.deepEqual(created.map((m) => [m.manager, m.operation, m.fieldsV1]), [['kubectl-create', 'Update', { 'f:data': { '.': {}, 'f:a': {} } }]]);
    const live = withFields(cm({ a: '1' }), created);
    assert.deepEqual(managedFieldsAfterUpdate(live, cm({ a: '1' }), { ...op('other'), now: '2030-01-01T00:00:00Z' }), created);
  });
});

describe('undeclaredField', () => {
  const schema = {
    type: 'object' as const,
    properties: {
      spec: { type: 'object' as const, properties: { size: { type: 'integer' as const }, items: { type: 'array' as const, items: { type: 'object' as const, properties: { n: { type: 'string' as const } } } } } },
      status: { type: 'object' as const, 'x-kubernetes-preserve-unknown-fields': true },
      labels: { type: 'object' as const, additionalProperties: { type: 'string' as const } },
    },
  };
  it('names the first field the schema does not declare, at any depth', () => {
    assert.equal(undeclaredField({ apiVersion: 'x/v1', kind: 'W', metadata: { name: 'w', anything: 1 }, spec: { size: 1, shape: 'round' } }, schema), '.spec.shape');
    assert.equal(undeclaredField({ spec: { items: [{ n: 'a' }, { n: 'b', m: 1 }] } }, schema), '.spec.items[1].m');
    assert.equal(undeclaredField({ extra: 1 }, schema), '.extra');
  });
  it('accepts what preserve-unknown-fields and additionalProperties allow', () => {
    assert.equal(undeclaredField({ spec: { size: 1 }, status: { free: { form: true } }, labels: { a: 'b' } }, schema), undefined);
    assert.equal(undeclaredField({ spec: { shape: 1 } }, undefined), undefined);
  });
});
