// The dashboard's page (src/dashboard/ui): type-checked with the browser's libraries, then bundled
// by esbuild into dist/src/dashboard/ui-bundle/{index.html,app.js,app.css}, uPlot's stylesheet
// included, so the server has nothing to fetch from a network and the page no inline script
// (the server's CSP is default-src 'self').
//
// The page imports the wire format (src/dashboard/model.ts), which imports a type from the control
// plane, so the checker also loads server code; that code is checked by the root build with Node's
// libraries and does not hold under the DOM's, so only diagnostics in src/dashboard/ count here.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, relative, sep } from 'node:path';
import ts from 'typescript';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const uiDir = `${root}src/dashboard/ui/`;
const outDir = `${root}dist/src/dashboard/ui-bundle/`;

export function typecheckUi() {
  const configPath = `${uiDir}tsconfig.json`;
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) return [read.error];
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(configPath));
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, incremental: false, noEmit: true } });
  const ours = (f) => relative(root, f.fileName).split(sep).slice(0, 2).join('/') === 'src/dashboard';
  const diags = [...parsed.errors, ...program.getOptionsDiagnostics()];
  for (const f of program.getSourceFiles()) if (ours(f)) diags.push(...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f));
  return diags;
}

export async function bundleUi() {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: `${uiDir}main.tsx` },
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: `${uiDir}tsconfig.json`,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  copyFileSync(`${uiDir}index.html`, `${outDir}index.html`);
}

/** Type-checks, then bundles; on a type error prints the diagnostics and returns false. */
export async function buildUi() {
  const diags = typecheckUi();
  if (diags.length > 0) {
    process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diags, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
    return false;
  }
  await bundleUi();
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && !(await buildUi())) process.exit(1);
