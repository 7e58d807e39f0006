/** Custom resources checked against a CRD schema the way kube-apiserver checks them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps } from '../registry/types.js';
import {
  applyDefaults,
  formatCause,
  invalidMessage,
  prune,
  strictDecodingMessage,
  unknownFieldWarnings,
  validateObject,
  validateStructuralSchema,
  assertValid,
  SchemaValidationError,
} from './index.js';

const WIDGET: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number' },
        mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast' },
        label: { type: 'string', maxLength: 5, pattern: '^[a-z]+$' },
        note: { type: 'string', nullable: true },
        port: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3, 'x-kubernetes-list-type': 'set' },
        rules: {
          type: 'array',
          minItems: 1,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string', minLength: 2 }, weight: { type: 'integer', default: 1 } },
          },
        },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'boolean' } } },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
};

const widget = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'w1', namespace: 'default' }) => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata,
  spec,
});

describe('validateObject', () => {
  it('accepts a valid custom resource', () => {
    const ok = widget({
      size: 3, ratio: 0.5, mode: 'slow', label: 'abc', note: null, port: 'http', tags: ['a', 'b'],
      rules: [{ name: 'r1' }, { name: 'r2', weight: 4 }], labels: { a: 'b' }, extra: { anything: [1, 2] },
      template: { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: {} },
    });
    assert.deepEqual(validateObject(ok, WIDGET), []);
  });

  it('reports each problem with the apiserver field path, reason and message', () => {
    const bad = widget({
      size: 'big', ratio: 'x', mode: 'medium', label: 'ABCDEFG', note: null, port: true, tags: ['a', 'b', 'a', 'c'],
      rules: [{ name: 'r1' }, { weight: 2 }, { name: 'r1' }], labels: { a: 5 },
      template: { metadata: {} },
    });
    const got = validateObject(bad, WIDGET).map((c) => ({ field: c.field, reason: c.reason, message: c.message }));
    const expect = [
      { field: 'spec.size', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.size in body must be of type integer: "string"' },
      { field: 'spec.ratio', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.ratio in body must be of type number: "string"' },
      { field: 'spec.mode', reason: 'FieldValueNotSupported', message: 'Unsupported value: "medium": supported values: "fast", "slow"' },
      { field: 'spec.label', reason: 'FieldValueTooLong', message: 'Too long: may not be longer than 5' },
      { field: 'spec.label', reason: 'FieldValueInvalid', message: `Invalid value: "ABCDEFG": spec.label in body should match '^[a-z]+$'` },
      { field: 'spec.port', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"' },
      { field: 'spec.tags', reason: 'FieldValueTooMany', message: 'Too many: 4: must have at most 3 items' },
      { field: 'spec.tags[2]', reason: 'FieldValueDuplicate', message: 'Duplicate value: "a"' },
      { field: 'spec.rules[1].name', reason: 'FieldValueRequired', message: 'Required value' },
      { field: 'spec.rules[2]', reason: 'FieldValueDuplicate', message: 'Duplicate value: map[string]interface {}{"name":"r1"}' },
      { field: 'spec.labels.a', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "integer": spec.labels.a in body must be of type string: "integer"' },
      { field: 'spec.template.apiVersion', reason: 'FieldValueRequired', message: 'Required value: must not be empty' },
      { field: 'spec.template.kind', reason: 'FieldValueRequired', message: 'Required value: must not be empty' },
    ];
    for (const e of expect) assert.ok(got.some((g) => g.field === e.field && g.reason === e.reason && g.message === e.message), `missing ${JSON.stringify(e)} in ${JSON.stringify(got, null, 1)}`);
    assert.equal(got.length, expect.length, JSON.stringify(got, null, 1));
  });

  it('checks required fields, ranges, minItems, minLength and null in a non-nullable field', () => {
    const got = validateObject(widget({ rules: [], mode: null }), WIDGET).map(formatCause);
    assert.deepEqual(got.sort(), [
      'spec.mode: Invalid value: "null": spec.mode in body must be of type string: "null"',
      'spec.rules: Invalid value: []interface {}{}: spec.rules in body should have at least 1 items',
      'spec.size: Required value',
    ]);
    assert.deepEqual(validateObject(widget({ size: 11 }), WIDGET).map(formatCause), ['spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10']);
    assert.deepEqual(validateObject(widget({ size: 0 }), WIDGET).map(formatCause), ['spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1']);
    assert.deepEqual(validateObject(widget({ size: 1, rules: [{ name: 'x' }] }), WIDGET).map(formatCause), [
      'spec.rules[0].name: Invalid value: "x": spec.rules[0].name in body should be at least 2 chars long',
    ]);
  });

  it('treats metadata as ObjectMeta: name rules, not the CRD schema', () => {
    assert.deepEqual(validateObject(widget({ size: 1 }, { namespace: 'default' }), WIDGET).map(formatCause), [
      'metadata.name: Required value: name or generateName is required',
    ]);
    const [c] = validateObject(widget({ size: 1 }, { name: 'Bad_Name' }), WIDGET);
    assert.equal(c?.field, 'metadata.name');
    assert.equal(c?.reason, 'FieldValueInvalid');
    assert.match(c!.message, /^Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);
    assert.deepEqual(validateObject(widget({ size: 1 }, { generateName: 'w-' }), WIDGET), []);
    const restricted: JSONSchemaProps = { ...WIDGET, properties: { ...WIDGET.properties, metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 3 } } } } };
    assert.deepEqual(validateObject(widget({ size: 1 }, { name: 'long-name' }), restricted).map(formatCause), ['metadata.name: Too long: may not be longer than 3']);
  });

  it('builds the 422 message and throws a typed error', () => {
    const list = validateObject(widget({ size: 20, mode: 'x' }), WIDGET);
    assert.equal(
      invalidMessage('Widget.example.com', 'w1', list),
      'Widget.example.com "w1" is invalid: [spec.size: Invalid value: 20: spec.size in body should be less than or equal to 10, spec.mode: Unsupported value: "x": supported values: "fast", "slow"]',
    );
    assert.throws(() => assertValid(widget({}), WIDGET), (e: unknown) => e instanceof SchemaValidationError && e.causes[0]?.field === 'spec.size');
  });
});

describe('prune', () => {
  it('drops unknown fields and names them as the apiserver does', () => {
    const obj = {
      ...widget({ size: 1, foo: 1, rules: [{ name: 'ab', bar: true }], extra: { known: true, kept: 'yes' }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', junk: 1 }, spec: { x: 1 } } }),
      status: { ready: true, phase: 'x' },
      topLevel: 1,
    };
    (obj.metadata as Record<string, unknown>).bogus = 'x';
    const { pruned, unknownFields } = prune(obj, WIDGET);
    assert.deepEqual(unknownFields.sort(), ['metadata.bogus', 'spec.foo', 'spec.rules[0].bar', 'spec.template.metadata.junk', 'status.phase', 'topLevel']);
    assert.deepEqual((pruned as typeof obj).spec, { size: 1, rules: [{ name: 'ab' }], extra: { known: true, kept: 'yes' }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { x: 1 } } });
    assert.deepEqual((pruned as typeof obj).metadata, { name: 'w1', namespace: 'default' });
    assert.equal('bogus' in obj.metadata, true, 'the input is left alone');
    assert.equal(strictDecodingMessage(['spec.foo', 'topLevel']), 'strict decoding error: unknown field "spec.foo", unknown field "topLevel"');
    assert.deepEqual(unknownFieldWarnings(['spec.foo']), ['unknown field "spec.foo"']);
  });

  it('prunes everything below an object without properties unless it preserves unknown fields', () => {
    const s: JSONSchemaProps = { type: 'object', properties: { spec: { type: 'object' }, data: { type: 'object', additionalProperties: true } } };
    const { pruned, unknownFields } = prune({ apiVersion: 'a/v1', kind: 'K', spec: { a: 1 }, data: { b: 2 } }, s);
    assert.deepEqual(pruned, { apiVersion: 'a/v1', kind: 'K', spec: {}, data: { b: 2 } });
    assert.deepEqual(unknownFields, ['spec.a']);
  });
});

describe('applyDefaults', () => {
  it('fills missing fields, inside arrays too, and replaces null in non-nullable fields', () => {
    const out = applyDefaults(widget({ size: 1, rules: [{ name: 'ab' }, { name: 'cd', weight: 3 }], note: null, ratio: null }), WIDGET);
    assert.deepEqual(out.spec, { size: 1, mode: 'fast', rules: [{ name: 'ab', weight: 1 }, { name: 'cd', weight: 3 }], note: null });
  });

  it('defaults a missing object and then its fields', () => {
    const s: JSONSchemaProps = { type: 'object', properties: { spec: { type: 'object', default: {}, properties: { replicas: { type: 'integer', default: 1 } } } } };
    assert.deepEqual(applyDefaults({ apiVersion: 'a/v1', kind: 'K' }, s), { apiVersion: 'a/v1', kind: 'K', spec: { replicas: 1 } });
  });
});

describe('validateStructuralSchema', () => {
  const P = 'spec.versions[1].schema.openAPIV3Schema';
  it('accepts a structural schema', () => {
    assert.deepEqual(validateStructuralSchema(WIDGET, P), []);
  });

  it('refuses what the apiserver refuses, with CRD field paths', () => {
    const bad = {
      type: 'object',
      additionalProperties: { type: 'string' },
      properties: {
        metadata: { type: 'object', properties: { labels: { type: 'object' } } },
        spec: {
          type: 'object',
          properties: {
            untyped: { description: 'no type' },
            list: { type: 'array' },
            ref: { $ref: '#/definitions/x' },
            keep: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false },
            either: { type: 'string', anyOf: [{ type: 'string', pattern: 'a' }] },
            port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
            byName: { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object', properties: { name: { type: 'string' } } } },
            mode: { type: 'string', enum: ['a'], default: 'b' },
          },
        },
      },
    };
    const got = validateStructuralSchema(bad, P).map(formatCause);
    const expect = [
      `${P}.additionalProperties: Forbidden: must not be used at the root`,
      `${P}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
      `${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
      `${P}.properties[spec].properties[untyped].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[spec].properties[list].items: Required value: must be specified`,
      `${P}.properties[spec].properties[ref].$ref: Forbidden: $ref is not supported`,
      `${P}.properties[spec].properties[keep].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`,
      `${P}.properties[spec].properties[either].anyOf[0].type: Forbidden: must be empty to be structural`,
      `${P}.properties[spec].properties[byName].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`,
      `${P}.properties[spec].properties[mode].default: Unsupported value: "b": supported values: "a"`,
    ];
    for (const e of expect) assert.ok(got.includes(e), `missing ${e} in\n${got.join('\n')}`);
    assert.ok(!got.some((g) => g.includes('properties[port]')), 'the int-or-string anyOf pattern is allowed');
    assert.ok(!got.some((g) => g.includes('properties[ref].type')), 'a $ref node is reported once');
    assert.deepEqual([...got].sort(), got, 'sorted as the apiserver sorts');
  });

  it('requires an object type at the root', () => {
    assert.deepEqual(validateStructuralSchema({ type: 'string' }, P).map(formatCause), [`${P}.type: Invalid value: "string": must be object at the root`]);
  });
});
