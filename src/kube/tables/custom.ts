/**
 * Tables without a compiled-in printer. Custom resources: NAME, then the CRD's
 * additionalPrinterColumns evaluated with kubectl's JSONPath (an Age date column when the CRD lists
 * none). Built-in kinds without a printer (and CustomResourceDefinition itself, up to 1.33): the
 * generic NAME / CREATED AT table, the timestamp left as RFC 3339 text.
 */
import type { PrinterColumn } from '../registry/types.js';
import { parseTemplate, JsonPathError } from '../../cli/output/jsonpath/index.js';
// the index exports only the text renderer; cells need the typed values behind it
import { evalSteps } from '../../cli/output/jsonpath/evaluate.js';
import { NAME_COLUMN, column } from './columns.js';
import { DOC } from './descriptions.js';
import { formatRFC3339, humanDuration, parseTimestamp } from './duration.js';
import { invalidPrinterColumn } from './errors.js';
import { jsonPathText, obj, str } from './values.js';
import type { Printer } from './types.js';

type Segment = ReturnType<typeof parseTemplate>[number];

export const genericPrinter: Printer = {
  columns: [NAME_COLUMN, column('Created At', 'date', DOC.creationTimestamp)],
  row: (o) => ({ cells: [str(obj(o, 'metadata'), 'name'), formatRFC3339(obj(o, 'metadata')['creationTimestamp'])] }),
};

/** What apiextensions serves for a version that declares no printer columns. */
export const DEFAULT_CR_COLUMNS: PrinterColumn[] = [
  { name: 'Age', type: 'date', description: DOC.creationTimestamp, jsonPath: '.metadata.creationTimestamp' },
];

/** The first result of a parsed `{...}` path, as client-go's FindResults()[0][0]; undefined for none. */
function firstResult(segments: Segment[], data: unknown): unknown {
  const first = segments[0];
  if (first === undefined) return undefined;
  if (first.type === 'text') return first.text;
  if (first.type !== 'action') return undefined;
  try {
    for (const expression of first.expressions) {
      const values =
        expression.type === 'literal'
          ? [expression.value]
          : evalSteps(expression.steps, [data], data, { allowMissingKeys: true });
      if (values.length > 0) return values[0];
    }
  } catch (e) {
    // an execution error (index out of range, filter on a non-list) leaves the cell empty
    if (e instanceof JsonPathError) return undefined;
    throw e;
  }
  return undefined;
}

/** `cellForJSONValue`: the typed cell for a non-string column, null when the value does not fit. */
function typedCell(type: string, value: unknown, now: Date): unknown {
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      // the server turns dates into ages; kubectl prints the cell as it comes
      const ms = value === 'null' ? null : parseTimestamp(value);
      if (ms === undefined) return '<invalid>';
      return ms === null ? '<unknown>' : humanDuration(now.getTime() - ms);
    }
    default:
      return null;
  }
}

/** The table for a custom resource; throws TableError when a column's JSONPath does not parse. */
export function customResourcePrinter(printerColumns: PrinterColumn[] | undefined): Printer {
  const declared = printerColumns && printerColumns.length > 0 ? printerColumns : DEFAULT_CR_COLUMNS;
  const paths = declared.map((c) => {
    try {
      return parseTemplate(`{${c.jsonPath}}`);
    } catch (e) {
      if (e instanceof JsonPathError) throw invalidPrinterColumn(c.jsonPath);
      throw e;
    }
  });
  return {
    columns: [
      NAME_COLUMN,
      ...declared.map((c) =>
        column(
          c.name,
          c.type,
          c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
          c.priority ?? 0,
          c.format ?? '',
        ),
      ),
    ],
    row: (o, now) => ({
      cells: [
        str(obj(o, 'metadata'), 'name'),
        ...declared.map((c, i) => {
          const value = firstResult(paths[i]!, o);
          if (value === undefined) return null;
          if (c.type === 'string') return jsonPathText(value);
          return value === null ? null : typedCell(c.type, value, now);
        }),
      ],
    }),
  };
}
