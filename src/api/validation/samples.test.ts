/** The FSM sample manifests and every `kubectl apply -f - <<EOF` block of the seeds validate unchanged. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadManifests, parseManifests } from '../../manifest/index.js';
import { validateDocuments } from './index.js';

/** The repo root is the nearest folder with package.json, whether tests run from dist/ or elsewhere. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the test file');
    dir = parent;
  }
  return dir;
}

// shared/ sits beside the project root (see shared/README.md); tests read it in place, never copy it.
const SHARED = join(repoRoot(), '..', 'shared');
const SAMPLES = join(SHARED, 'samples', 'fsm-docs');
const SEEDS = join(SHARED, 'seeds');

interface HereDoc {
  where: string;
  namespace: string | undefined;
  text: string;
}

/** `kubectl apply [-n NS] -f - <<EOF` … `EOF` blocks, as a user would paste them. */
function seedHereDocs(file: string): HereDoc[] {
  const lines = readFileSync(join(SEEDS, file), 'utf8').split('\n');
  const out: HereDoc[] = [];
  lines.forEach((line, i) => {
    const m = /^kubectl apply(?: -n (\S+))? -f - <<EOF\s*$/.exec(line);
    if (!m) return;
    const end = lines.indexOf('EOF', i + 1);
    assert.ok(end > i, `${file}:${i + 1}: here-document without EOF`);
    out.push({ where: `${file}:${i + 1}`, namespace: m[1], text: lines.slice(i + 1, end).join('\n') });
  });
  return out;
}

/** FSM's canary walkthrough names its own namespace (httpbin), so its files are validated without -n. */
const TRAFFIC_SPLIT_SAMPLE = /^canary-/;

describe('sample manifests', () => {
  it('every fsm-docs sample validates, loaded as a directory', async () => {
    const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.yaml') && !TRAFFIC_SPLIT_SAMPLE.test(f));
    const docs = await loadManifests(files.map((f) => join(SAMPLES, f)), async () => '');
    const resources = validateDocuments(docs, 'pipy');
    const kinds = resources.map((r) => r.kind);
    assert.ok(kinds.includes('Plugin') && kinds.includes('Deployment') && kinds.includes('Service') && kinds.includes('ServiceAccount'), kinds.join());
    assert.equal(resources.length, docs.length);
    for (const r of resources) {
      if (r.kind === 'Plugin') assert.equal(r.metadata.namespace, undefined);
      else assert.equal(r.metadata.namespace, 'pipy');
    }
  });

  it('each sample file validates on its own', () => {
    const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 8, files.join());
    for (const f of files) {
      const docs = parseManifests(readFileSync(join(SAMPLES, f), 'utf8'), f);
      if (f === 'canary-httpbin-split.yaml') {
        const [split] = validateDocuments(docs);
        assert.equal(split?.kind, 'TrafficSplit');
        assert.deepEqual((split?.spec as { backends: unknown[] }).backends, [{ service: 'httpbin-v1', weight: 50 }, { service: 'httpbin-v2', weight: 50 }]);
        continue;
      }
      // Samples that name their namespace are applied without -n, as their walkthrough does.
      const resources = validateDocuments(docs, TRAFFIC_SPLIT_SAMPLE.test(f) ? undefined : 'curl');
      assert.ok(resources.length > 0, f);
    }
  });
});

describe('seed manifests', () => {
  const blocks = readdirSync(SEEDS)
    .sort()
    .flatMap((f) => seedHereDocs(f));

  it('finds the seeds’ here-documents', () => {
    assert.ok(blocks.length >= 20, `found ${blocks.length}`);
  });

  it('every here-document validates with the namespace its command gives', () => {
    for (const block of blocks) {
      const resources = validateDocuments(parseManifests(block.text, block.where), block.namespace);
      assert.ok(resources.length > 0, block.where);
      for (const r of resources) if (block.namespace && r.kind !== 'Plugin') assert.equal(r.metadata.namespace, block.namespace, block.where);
    }
  });
});
