#!/usr/bin/env node
// Writes charts/tessera from src/install (one source of truth with `tessera install`).
//   node scripts/render-chart.mjs [--dist DIR] [--check]
// DIR is the TypeScript build output (default: dist). --check writes nothing and exits 1 when the
// committed chart differs from what src/install renders.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const distArg = args.indexOf('--dist');
const dist = join(root, distArg >= 0 ? args[distArg + 1] : 'dist');
const check = args.includes('--check');
const chartDir = join(root, 'charts', 'tessera');

const { chartFiles } = await import(pathToFileURL(join(dist, 'src', 'install', 'index.js')).href);
const files = chartFiles();

function listed(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(chartDir, join(e.parentPath ?? e.path, e.name)));
}

const stale = listed(chartDir).filter((p) => !files.has(p));
const changed = [...files].filter(([p, text]) => !existsSync(join(chartDir, p)) || readFileSync(join(chartDir, p), 'utf8') !== text).map(([p]) => p);
if (check) {
  if (stale.length + changed.length === 0) process.exit(0);
  console.error(`charts/tessera is out of date (run node scripts/render-chart.mjs): ${[...changed, ...stale.map((p) => `${p} (stale)`)].join(', ')}`);
  process.exit(1);
}
for (const p of stale) rmSync(join(chartDir, p));
for (const [p, text] of files) {
  mkdirSync(dirname(join(chartDir, p)), { recursive: true });
  writeFileSync(join(chartDir, p), text);
}
console.log(`charts/tessera: ${files.size} files (${changed.length} changed, ${stale.length} removed)`);
