/**
 * The images cannot be built here (no container engine), so what can be checked is: every target
 * the install renders exists in images/Dockerfile, each entrypoint it names is in the build output,
 * every file it copies from the repo exists, it runs as the uid the install's securityContext names,
 * and the base image is pinned to a Node release.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'images', 'Dockerfile'), 'utf8');
const COMPONENTS = ['controller', 'injector', 'bootstrap', 'sidecar'];

interface Stage {
  name: string;
  lines: string[];
}

function stages(text: string): Stage[] {
  const out: Stage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) out.push({ name: from[1] ?? '', lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

test('a target per component, each with an entrypoint that exists in the build output', () => {
  const byName = new Map(stages(DOCKERFILE).map((s) => [s.name, s]));
  for (const c of COMPONENTS) {
    const stage = byName.get(c);
    assert.ok(stage, `target ${c}`);
    const entry = stage.lines.find((l) => l.startsWith('ENTRYPOINT'));
    assert.ok(entry, `${c} has an ENTRYPOINT`);
    const args = JSON.parse(entry.slice('ENTRYPOINT'.length).trim()) as string[];
    assert.equal(args[0], 'node');
    assert.ok(existsSync(join(ROOT, args[1]!)), `${c}: ${args[1]} is in the build output`);
  }
});

test('every file the build copies from the repository exists; the images run as uid 65532 from a pinned Node base', () => {
  for (const line of DOCKERFILE.split('\n')) {
    const m = /^COPY\s+(?!--from)(.+)$/.exec(line.trim());
    if (!m) continue;
    const parts = m[1]!.split(/\s+/);
    for (const source of parts.slice(0, -1)) assert.ok(existsSync(join(ROOT, source)), `COPY source ${source} exists`);
  }
  assert.match(DOCKERFILE, /^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m, 'the base is a pinned Node 20 release');
  assert.match(DOCKERFILE, /^USER 65532:65532$/m);
  const installed = readFileSync(join(ROOT, 'src', 'install', 'render.ts'), 'utf8');
  assert.match(installed, /runAsUser: 65532/, 'the install runs the pods as the image user');
  assert.match(installed, /tessera-\$\{c\}/, 'the install names images tessera-<component>');
});
