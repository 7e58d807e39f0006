/** Splits multi-document YAML or JSON text into `ManifestDocument`s, expanding `List` kinds. */
import { LineCounter, isMap, isSeq, parseAllDocuments, type Document } from 'yaml';
import { MeshError } from '../lib/errors.js';
import type { ManifestDocument } from '../local/api-contract.js';

/** Limits alias expansion so a hostile manifest cannot blow up memory ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses `text` (from `source`, a path or `-`) into one document per object.
 * JSON goes through the YAML parser too: JSON is YAML 1.2, and one parser gives one set of positions.
 * `index` is the position of the YAML document in the text (counting `---` separators, so it
 * matches what a reader counts); items of a `List` share their list's index but have their own line.
 */
export function parseManifests(text: string, source: string): ManifestDocument[] {
  const lineCounter = new LineCounter();
  const yamlDocs = parseAllDocuments(text, { lineCounter, prettyErrors: false, merge: true });
  const out: ManifestDocument[] = [];
  yamlDocs.forEach((doc, i) => {
    const index = i + 1;
    throwOnSyntaxError(doc, source, index, lineCounter);
    if (doc.contents === null) return;
    const where: Where = { source, index, line: lineCounter.linePos(doc.contents.range[0]).line, lineCounter };
    const value = toPlainValue(doc, where);
    if (value === null || value === undefined) return; // a document of only comments or `~`
    collect(value, doc.contents, where, out);
  });
  return out;
}

interface Where {
  source: string;
  index: number;
  line: number;
  lineCounter: LineCounter;
}

function throwOnSyntaxError(doc: Document.Parsed, source: string, index: number, lineCounter: LineCounter): void {
  const error = doc.errors[0];
  if (!error) return;
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const message = `error parsing ${source}: document ${index}, line ${line} column ${col}: ${error.message}`;
  throw new MeshError('MESH_ERR_MANIFEST_PARSE', message, {
    problems: [{ resource: `document ${index} of ${source}`, field: '', message: `line ${line} column ${col}: ${error.message}` }],
  });
}

/** Alias problems (unknown anchor, too many aliases) only show when converting, without a position. */
function toPlainValue(doc: Document.Parsed, where: Where): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw documentError(where, (e as Error).message);
  }
}

/** Adds `value` (or, for a list, each of its items) to `out`. `node` is the YAML node, for item lines. */
function collect(value: unknown, node: unknown, where: Where, out: ManifestDocument[]): void {
  if (!isPlainObject(value)) {
    throw documentError(where, `expected a mapping with apiVersion and kind, got ${typeName(value)}`);
  }
  if (!isListKind(value)) {
    out.push({ source: where.source, index: where.index, line: where.line, object: value });
    return;
  }
  const items = value.items ?? [];
  if (!Array.isArray(items)) throw documentError(where, `items of a ${String(value.kind)} must be a list, got ${typeName(items)}`);
  const itemsNode = isMap(node) ? node.get('items', true) : undefined;
  items.forEach((item, i) => {
    const itemNode = isSeq(itemsNode) ? itemsNode.items[i] : undefined;
    const start = (itemNode as { range?: [number, number, number] } | undefined)?.range?.[0];
    const line = start === undefined ? where.line : where.lineCounter.linePos(start).line;
    if (!isPlainObject(item)) {
      throw documentError({ ...where, line }, `items[${i}]: expected a mapping with apiVersion and kind, got ${typeName(item)}`);
    }
    collect(item, itemNode, { ...where, line }, out);
  });
}

/** `kind: List` (kubectl's generic list) or a typed list such as `ServiceList` carrying `items`. */
function isListKind(value: Record<string, unknown>): boolean {
  if (typeof value.kind !== 'string') return false;
  if (value.kind === 'List') return true;
  return value.kind.endsWith('List') && 'items' in value;
}

function documentError(where: Where, detail: string): MeshError {
  const message = `error parsing ${where.source}: document ${where.index}, line ${where.line}: ${detail}`;
  return new MeshError('MESH_ERR_MANIFEST_PARSE', message, {
    problems: [{ resource: `document ${where.index} of ${where.source}`, field: '', message: `line ${where.line}: ${detail}` }],
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return `a ${typeof v} (${JSON.stringify(v)?.slice(0, 40)})`;
}
