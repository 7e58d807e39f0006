/**
 * The scripts under test, read at run time from the shared seeds and FSM sample manifests (never
 * copied into the repo): Plugin `spec.pipyscript`s and the `pipy -e` commands of Deployments.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const SHARED = fileURLToPath(new URL('../../../../../shared/', import.meta.url));
export const SEEDS_DIR = join(SHARED, 'seeds');
export const SAMPLES_DIR = join(SHARED, 'samples', 'fsm-docs');

export const SEED_000 = '000_5af9ea4944959bc9.txt';
export const SEED_001 = '001_d131fb383f82f92a.txt';
export const SEED_002 = '002_0be51791b2116708.txt';

type Doc = { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> };

/** Every YAML document in a file, or in the here-documents (`<<EOF … EOF`) of a seed. */
function documents(text: string, heredocs: boolean): Doc[] {
  const chunks = heredocs ? [...text.matchAll(/<<EOF\n([\s\S]*?)\nEOF/g)].map((m) => m[1]!) : [text];
  const out: Doc[] = [];
  for (const chunk of chunks) {
    for (const d of parseAllDocuments(chunk)) {
      const v = d.toJS() as Doc | null;
      if (v && typeof v === 'object') out.push(v);
    }
  }
  return out;
}

function find(docs: Doc[], kind: string, name: string, where: string): Doc {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`${where} has no ${kind} ${name}`);
  return d;
}

/** `spec.pipyscript` of Plugin `name` in a seed's here-documents. */
export function seedPluginScript(seed: string, name: string): string {
  return find(documents(readFileSync(join(SEEDS_DIR, seed), 'utf8'), true), 'Plugin', name, seed).spec!['pipyscript'] as string;
}

/** `spec.pipyscript` of the Plugin in a sample manifest. */
export function samplePluginScript(file: string): { name: string; priority: number; script: string } {
  const d = documents(readFileSync(join(SAMPLES_DIR, file), 'utf8'), false).find((x) => x.kind === 'Plugin');
  if (!d) throw new Error(`${file} has no Plugin`);
  return { name: d.metadata!.name!, priority: Number(d.spec!['priority']), script: d.spec!['pipyscript'] as string };
}

/** The `pipy -e SCRIPT` of Deployment `name` (in a seed's here-documents, or a sample file). */
export function deploymentPipyScript(source: { seed: string } | { sample: string }, name: string): string {
  const docs = 'seed' in source ? documents(readFileSync(join(SEEDS_DIR, source.seed), 'utf8'), true) : documents(readFileSync(join(SAMPLES_DIR, source.sample), 'utf8'), false);
  const d = find(docs, 'Deployment', name, 'seed' in source ? source.seed : source.sample);
  const c = (d.spec as { template: { spec: { containers: { command: string[] }[] } } }).template.spec.containers[0]!.command;
  const e = c.indexOf('-e');
  return c[e + 1]!;
}

/** A PluginConfig's `spec.config` from a seed's here-documents. */
export function seedPluginConfig(seed: string, name: string): unknown {
  return find(documents(readFileSync(join(SEEDS_DIR, seed), 'utf8'), true), 'PluginConfig', name, seed).spec!['config'];
}
