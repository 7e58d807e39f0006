// After tsc: marks the CLI entry executable (tsc does not keep file modes), writes the commands
// images put on PATH for exec (src/local/runtime/image-tools.ts), and builds the native addons
// (native/*) when they are missing or older than their source. node-gyp comes with npm
// (npm_config_node_gyp under `npm run`); Node's headers come from the machine (nodedir), never from
// a download.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(entry)) chmodSync(entry, 0o755);

// Commands images put on PATH for exec (`fortio` in fortio pods), so an install that is read-only later has them.
const imageTools = new URL('../dist/src/local/runtime/image-tools.js', import.meta.url);
if (existsSync(imageTools)) (await import(imageTools.href)).installImageTools();

// The dashboard's page: type-checked for the browser and bundled (scripts/dashboard-ui.mjs).
if (!(await (await import('./dashboard-ui.mjs')).buildUi())) process.exit(1);

// The native addons: SO_ORIGINAL_DST (the transparent sidecar in namespace mode) and the sidecar's
// watchdog thread. Each is rebuilt when missing or older than its source.
const addons = [
  { name: 'original-dst', target: 'original_dst', source: 'original_dst.c', without: 'namespace mode needs it' },
  { name: 'watchdog', target: 'watchdog', source: 'watchdog.cc', without: 'sidecars fall back to a watchdog worker (8-10 MiB more each)' },
];
for (const { name, target, source, without } of addons) {
  const dir = fileURLToPath(new URL(`../native/${name}/`, import.meta.url));
  const addon = `${dir}build/Release/${target}.node`;
  const stale = !existsSync(addon) || [`${dir}${source}`, `${dir}binding.gyp`].some((f) => statSync(addon).mtimeMs < statSync(f).mtimeMs);
  if (!stale || process.platform !== 'linux') continue;
  const gyp = process.env.npm_config_node_gyp;
  const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
  const r = spawnSync(cmd, [...args, 'rebuild', `--directory=${dir}`], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`postbuild: the ${name} addon did not build (${r.error?.message ?? r.stderr.trim().split('\n').pop()}); ${without}\n`);
  }
}
