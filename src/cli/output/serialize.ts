/** `-o json` and `-o yaml` encodings, shaped like kubectl's (4-space JSON, block-style YAML, `List` wrapper). */
import { createRequire } from 'node:module';

// The YAML library is loaded on the first `-o yaml`: most commands never print YAML, and loading
// it costs them more than the rest of their start.
const require = createRequire(import.meta.url);
let yaml: typeof import('yaml') | undefined;

export interface ListObject {
  apiVersion: 'v1';
  items: unknown[];
  kind: 'List';
  metadata: { resourceVersion: string };
}

/** The object kubectl prints for several results; key order matches kubectl's output. */
export function listObject(items: unknown[]): ListObject {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 4) + '\n';
}

/**
 * Block sequences are not indented under their key, as with kubectl (`items:\n- apiVersion: v1`).
 * YAML 1.1 rules quote strings 1.1 readers would retype (`"2024-01-01T00:00:00Z"`, `"on"`), as
 * kubectl's go-yaml does.
 */
export function toYaml(value: unknown): string {
  yaml ??= require('yaml') as typeof import('yaml');
  return yaml.stringify(value, { version: '1.1', indentSeq: false, lineWidth: 0 });
}
