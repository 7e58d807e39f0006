/** Renders what `get` found in the requested output format; pure, returns stdout and stderr text. */
import type { Resource } from '../../api/types.js';
import { tableFor } from './columns.js';
import type { OutputFormat } from './format.js';
import { renderJsonPath } from './jsonpath/index.js';
import { objectName } from './names.js';
import { listObject, toJson, toYaml } from './serialize.js';
import { formatTable } from './table.js';

export interface PrintRequest {
  kind: string;
  objects: readonly Resource[];
  /** a single named object (`get pod x`): printed as itself, not wrapped in a List */
  single: boolean;
  format: OutputFormat;
  /** for `No resources found in NS namespace.`; undefined for cluster-scoped kinds or `-A` */
  namespace?: string;
  allNamespaces?: boolean;
  showLabels?: boolean;
  noHeaders?: boolean;
  nowMs: number;
}

export interface Printed {
  stdout: string;
  stderr: string;
}

/** kubectl's message for an empty table (on stderr, so scripts reading stdout see nothing). */
export function noResourcesMessage(namespace: string | undefined): string {
  return namespace ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n';
}

/** kubectl (since 1.21) leaves managedFields out of what it prints unless asked; so does `get`. */
function withoutManagedFields(o: Resource): Resource {
  if (!('managedFields' in o.metadata)) return o;
  const { managedFields: _omitted, ...metadata } = o.metadata as Resource['metadata'] & { managedFields?: unknown };
  return { ...o, metadata };
}

export function printObjects(req: PrintRequest): Printed {
  const { format } = req;
  const objects = req.objects.map(withoutManagedFields);
  const data: unknown = req.single && objects.length === 1 ? objects[0] : listObject([...objects]);
  switch (format.type) {
    case 'json':
      return { stdout: toJson(data), stderr: '' };
    case 'yaml':
      return { stdout: toYaml(data), stderr: '' };
    case 'name':
      return { stdout: objects.map((o) => objectName(o) + '\n').join(''), stderr: '' };
    case 'jsonpath':
      // kubectl tolerates missing keys across a List but not on one object
      return { stdout: renderJsonPath(format.template, data, { allowMissingKeys: !(req.single && objects.length === 1) }), stderr: '' };
    case 'table': {
      if (objects.length === 0) return { stdout: '', stderr: noResourcesMessage(req.allNamespaces ? undefined : req.namespace) };
      const table = tableFor(req.kind, objects, {
        wide: format.wide,
        allNamespaces: req.allNamespaces,
        showLabels: req.showLabels,
        nowMs: req.nowMs,
      });
      return { stdout: formatTable(req.noHeaders ? undefined : table.header, table.rows), stderr: '' };
    }
  }
}
