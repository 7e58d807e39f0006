/** Server-side tables for `kubectl get`, from the tables module with the served version's printer columns. */
import type { Resource } from '../../api/types.js';
import type { ResourceType } from '../registry/index.js';
import { TableError, toTable } from '../tables/index.js';
import { StatusError } from './status.js';
import type { ServerContext } from './context.js';

export function renderTable(ctx: ServerContext, type: ResourceType, version: string, objects: Resource[], includeObject: 'None' | 'Metadata' | 'Object', resourceVersion?: string): object {
  const served = type.versions.find((v) => v.name === version);
  const input: Parameters<typeof toTable>[0] = { group: type.group, kind: type.kind, objects, now: ctx.now(), includeObject, builtIn: type.builtIn };
  if (served?.printerColumns) input.printerColumns = served.printerColumns;
  if (resourceVersion !== undefined) input.resourceVersion = resourceVersion;
  try {
    return toTable(input);
  } catch (e) {
    if (e instanceof TableError) throw new StatusError(e.reason, e.message);
    throw e;
  }
}
