/** Keeps docs/errors.md in step with the MeshErrorCode union. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MeshError, formatProblem } from './errors.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('every error code is documented in docs/errors.md and nothing else is', () => {
  const source = readFileSync(`${root}src/lib/errors.ts`, 'utf8');
  const union = source.slice(source.indexOf('export type MeshErrorCode'), source.indexOf(';', source.indexOf('export type MeshErrorCode')));
  const codes = [...union.matchAll(/'(MESH_ERR_[A-Z_]+)'/g)].map((m) => m[1]).sort();
  const docs = readFileSync(`${root}docs/errors.md`, 'utf8');
  const documented = [...docs.matchAll(/`(MESH_ERR_[A-Z_]+)`/g)].map((m) => m[1]).sort();
  assert.ok(codes.length > 10);
  assert.deepEqual(documented, codes);
});

test('MeshError round-trips through JSON with its problems', () => {
  const e = new MeshError('MESH_ERR_MANIFEST_INVALID', 'bad', {
    problems: [{ resource: 'PluginChain curl/x', field: 'spec.chains[0].name', message: 'nope' }],
  });
  const back = MeshError.fromJSON(JSON.parse(JSON.stringify(e)));
  assert.equal(back.code, 'MESH_ERR_MANIFEST_INVALID');
  assert.equal(formatProblem(back.problems[0]!), 'PluginChain curl/x: spec.chains[0].name: nope');
});
