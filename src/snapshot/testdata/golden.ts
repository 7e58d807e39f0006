/** Golden-file helpers: compare a value with `src/snapshot/testdata/<name>.json`; UPDATE_GOLDEN=1 rewrites it. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor with a package.json. tsc does not copy JSON, so goldens are read from the source tree. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('golden: no package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** Pretty JSON with sorted keys, so goldens diff well and never depend on insertion order. */
export function prettySorted(v: unknown, indent = ''): string {
  const next = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((e) => next + prettySorted(e, next)).join(',\n')}\n${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    if (keys.length === 0) return '{}';
    const body = keys.map((k) => `${next}${JSON.stringify(k)}: ${prettySorted((v as Record<string, unknown>)[k], next)}`);
    return `{\n${body.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v);
}

export function assertGolden(name: string, actual: unknown): void {
  const file = join(repoRoot(), 'src', 'snapshot', 'testdata', `${name}.json`);
  const text = prettySorted(actual) + '\n';
  if (process.env['UPDATE_GOLDEN'] === '1') {
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `golden ${file} is missing; run the tests with UPDATE_GOLDEN=1 to write it`);
  assert.deepStrictEqual(JSON.parse(text), JSON.parse(readFileSync(file, 'utf8')), `snapshot differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`);
}
