// After tsc: marks the CLI entry executable (tsc does not keep file modes), writes the commands
// images put on PATH for exec (src/local/runtime/image-tools.ts), and builds the
// SO_ORIGINAL_DST addon the transparent sidecar needs in namespace mode, when it is missing or
// older than its source. node-gyp comes with npm (npm_config_node_gyp under `npm run`); Node's
// headers come from the machine (nodedir), never from a download.
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

const dir = fileURLToPath(new URL('../native/original-dst/', import.meta.url));
const addon = `${dir}build/Release/original_dst.node`;
const source = `${dir}original_dst.c`;
const stale = !existsSync(addon) || statSync(addon).mtimeMs < statSync(source).mtimeMs;
if (stale && process.platform === 'linux') {
  const gyp = process.env.npm_config_node_gyp;
  const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
  const r = spawnSync(cmd, [...args, 'rebuild', `--directory=${dir}`], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    // Loopback mode works without it; namespace mode says so at `up` (see src/local/sandbox).
    process.stderr.write(`postbuild: the original-dst addon did not build (${r.error?.message ?? r.stderr.trim().split('\n').pop()}); namespace mode needs it\n`);
  }
}
