/** Manifests as a YAML stream, one document per object, as `kubectl apply -f` and `helm template` read them. */
import { parseAllDocuments, stringify } from 'yaml';
import type { Manifest } from './manifest.js';

/** One object as YAML: no line folding (base64 and templates stay on one line), keys in given order. */
export function toYaml(o: unknown): string {
  return stringify(o, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

export function toYamlDocuments(list: Manifest[]): string {
  return list.map((o) => `---\n${toYaml(o)}`).join('');
}

/** The objects of a YAML stream, empty documents dropped (Helm leaves some). */
export function parseYamlDocuments(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((o): o is Manifest => o !== null && typeof o === 'object');
}
