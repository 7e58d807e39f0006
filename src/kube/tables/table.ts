/** `toTable`: what kube-apiserver answers to `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. */
import { unsupportedIncludeObject } from './errors.js';
import { printerFor } from './printers.js';
import { isObj, obj } from './values.js';
import type { PartialObjectMetadata, Table, TableListMeta, TableRow, ToTableInput } from './types.js';

/**
 * `meta.AsPartialObjectMetadata`: the object's metadata under PartialObjectMetadata. ObjectMeta's
 * creationTimestamp is not omitempty in Go, so an unset one is sent as null.
 */
export function partialObjectMetadata(o: object): PartialObjectMetadata {
  const metadata = { ...obj(o, 'metadata') };
  if (!('creationTimestamp' in metadata)) metadata['creationTimestamp'] = null;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata };
}

// the server treats an empty includeObject as Metadata
const INCLUDE = new Set(['None', 'Metadata', 'Object', '']);

function rowObject(o: object, includeObject: string): TableRow['object'] {
  if (includeObject === 'Object') return o;
  if (includeObject === 'None') return null;
  return partialObjectMetadata(o);
}

/**
 * Builds the Table for a list (or a single object: pass it alone). Cells for every column are
 * always present, priority>0 ones included: the server prints wide and kubectl hides by priority.
 * Throws TableError for an unknown includeObject or a printer column whose JSONPath cannot parse.
 */
export function toTable(input: ToTableInput): Table {
  // the query parameter reaches here unchecked at runtime, whatever the type says
  if (!INCLUDE.has(input.includeObject)) throw unsupportedIncludeObject(input.includeObject);
  const printer = printerFor(input);
  const metadata: TableListMeta = {};
  if (input.resourceVersion) metadata.resourceVersion = input.resourceVersion;
  if (input.continueToken) metadata.continue = input.continueToken;
  if (input.remainingItemCount !== undefined) metadata.remainingItemCount = input.remainingItemCount;
  const rows = input.objects.map((o): TableRow => {
    const printed = printer.row(isObj(o) ? o : {}, input.now);
    // key order as the server writes it: cells, conditions, object
    return {
      cells: printed.cells,
      ...(printed.conditions ? { conditions: printed.conditions } : {}),
      object: rowObject(o, input.includeObject),
    };
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: input.noHeaders ? null : printer.columns,
    rows,
  };
}
