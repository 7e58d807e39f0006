/** Tests for manifest parsing (YAML, JSON, lists, errors) and `-f` loading (files, directories, stdin). */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MeshError } from '../lib/errors.js';
import { loadManifests, parseManifests } from './index.js';

const noStdin = async (): Promise<string> => {
  throw new Error('stdin must not be read');
};

function parseError(fn: () => unknown): MeshError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MeshError, `expected a MeshError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('parseManifests', () => {
  it('splits multi-document YAML, recording 1-based index and start line, skipping empty documents', () => {
    const text = [
      '# header comment',
      'apiVersion: v1',
      'kind: Namespace',
      'metadata: {name: a}',
      '---',
      '---',
      '# only a comment',
      '---',
      '',
      'apiVersion: v1',
      'kind: Namespace',
      'metadata:',
      '  name: b',
      '---',
      '',
    ].join('\n');
    const docs = parseManifests(text, 'ns.yaml');
    assert.deepEqual(
      docs.map((d) => [d.source, d.index, d.line, (d.object.metadata as { name: string }).name]),
      [
        ['ns.yaml', 1, 2, 'a'],
        ['ns.yaml', 4, 10, 'b'],
      ],
    );
  });

  it('parses JSON, including tab-indented JSON', () => {
    const docs = parseManifests('\n{\n\t"apiVersion": "v1",\n\t"kind": "Namespace",\n\t"metadata": {"name": "j"}\n}\n', 'ns.json');
    assert.equal(docs.length, 1);
    assert.equal(docs[0]!.line, 2);
    assert.deepEqual(docs[0]!.object, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'j' } });
  });

  it('expands kind: List and typed *List documents into their items, each with its own line', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: v1',
      '  kind: Namespace',
      '  metadata: {name: a}',
      '- apiVersion: v1',
      '  kind: Namespace',
      '  metadata: {name: b}',
      '---',
      'apiVersion: v1',
      'kind: ServiceAccountList',
      'items:',
      '- {apiVersion: v1, kind: ServiceAccount, metadata: {name: c}}',
      '---',
      'kind: List',
      'items: []',
    ].join('\n');
    const docs = parseManifests(text, '-');
    assert.deepEqual(
      docs.map((d) => [d.index, d.line, (d.object.metadata as { name: string }).name]),
      [
        [1, 4, 'a'],
        [1, 7, 'b'],
        [2, 14, 'c'],
      ],
    );
  });

  it('reports malformed YAML with source, document and line:column', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports: [\n  - port: 80\n';
    const err = parseError(() => parseManifests(text, '-'));
    assert.equal(err.code, 'MESH_ERR_MANIFEST_PARSE');
    assert.match(err.message, /^error parsing -: document 2, line 10 column 3: /);
    assert.equal(err.problems[0]?.resource, 'document 2 of -');
  });

  it('reports malformed JSON and duplicate keys with positions', () => {
    assert.match(parseError(() => parseManifests('{"kind": "Namespace",, }', 'x.json')).message, /^error parsing x\.json: document 1, line 1 column \d+: /);
    assert.equal(
      parseError(() => parseManifests('kind: A\nkind: B\n', 'dup.yaml')).message,
      'error parsing dup.yaml: document 1, line 2 column 1: Map keys must be unique',
    );
  });

  it('rejects a document that is not a mapping, naming source and line', () => {
    const err = parseError(() => parseManifests('kind: Namespace\n---\n\n- a\n- b\n', 'list.yaml'));
    assert.equal(err.code, 'MESH_ERR_MANIFEST_PARSE');
    assert.equal(err.message, 'error parsing list.yaml: document 2, line 4: expected a mapping with apiVersion and kind, got a list');
    assert.match(parseError(() => parseManifests('just a string', '-')).message, /^error parsing -: document 1, line 1: expected a mapping/);
  });

  it('turns alias errors into parse errors', () => {
    const err = parseError(() => parseManifests('kind: A\nx: *nope\n', '-'));
    assert.equal(err.code, 'MESH_ERR_MANIFEST_PARSE');
    assert.match(err.message, /^error parsing -: document 1, line 1: .*nope/);
  });

  it('returns nothing for empty input', () => {
    assert.deepEqual(parseManifests('', '-'), []);
    assert.deepEqual(parseManifests('# nothing\n---\n', '-'), []);
  });
});

describe('loadManifests', () => {
  let dir = '';
  const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-manifest-'));
    await mkdir(join(dir, 'manifests', 'nested'), { recursive: true });
    await writeFile(join(dir, 'manifests', 'b.yml'), ns('b'));
    await writeFile(join(dir, 'manifests', 'a.yaml'), `${ns('a1')}---\n${ns('a2')}`);
    await writeFile(join(dir, 'manifests', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } }));
    await writeFile(join(dir, 'manifests', 'notes.txt'), 'not: a manifest');
    await writeFile(join(dir, 'manifests', 'nested', 'd.yaml'), ns('d'));
    await writeFile(join(dir, 'single.yaml'), ns('single'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const names = (docs: { object: Record<string, unknown> }[]) => docs.map((d) => (d.object.metadata as { name: string }).name);

  it('loads a directory: its yaml, yml and json files sorted by name, not recursively', async () => {
    const docs = await loadManifests([join(dir, 'manifests')], noStdin);
    assert.deepEqual(names(docs), ['a1', 'a2', 'b', 'c']);
    assert.deepEqual(
      docs.map((d) => [d.source, d.index]),
      [
        [join(dir, 'manifests', 'a.yaml'), 1],
        [join(dir, 'manifests', 'a.yaml'), 2],
        [join(dir, 'manifests', 'b.yml'), 1],
        [join(dir, 'manifests', 'c.json'), 1],
      ],
    );
  });

  it('reads `-` from stdin, and keeps the order of the paths given', async () => {
    const docs = await loadManifests([join(dir, 'single.yaml'), '-'], async () => ns('from-stdin'));
    assert.deepEqual(names(docs), ['single', 'from-stdin']);
    assert.equal(docs[1]!.source, '-');
  });

  it('names a missing path', async () => {
    const missing = join(dir, 'nope.yaml');
    await assert.rejects(loadManifests([missing], noStdin), (e: unknown) => {
      assert.ok(e instanceof MeshError);
      assert.equal(e.message, `the path "${missing}" does not exist`);
      return true;
    });
  });

  it('propagates parse errors naming the file', async () => {
    await assert.rejects(loadManifests(['-'], async () => 'a: [\n'), /^MeshError: error parsing -: document 1, line/);
  });
});
