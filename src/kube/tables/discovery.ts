/** EndpointSlice (discovery.k8s.io/v1): up to three ports and three addresses, then "+ N more...". */
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.js';
import { DOC } from './descriptions.js';
import { translateTimestampSince } from './duration.js';
import { obj, objs, str, strs } from './values.js';
import type { Printer } from './types.js';

const MAX = 3;

/** `listWithMoreString`: `<unset>` for nothing at all. */
function listWithMore(items: string[]): string {
  const shown = items.slice(0, MAX).join(',');
  if (items.length > MAX) return `${shown} + ${items.length - MAX} more...`;
  return shown === '' ? '<unset>' : shown;
}

export const endpointSlicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'string', DOC.endpointSliceAddressType),
    column('Ports', 'string', DOC.endpointSlicePorts),
    column('Endpoints', 'string', DOC.endpointSliceEndpoints),
    AGE_COLUMN,
  ],
  row: (slice, now) => {
    // a port with neither number nor name means "all ports"
    const ports = objs(slice, 'ports').map((p) =>
      typeof p['port'] === 'number' ? String(p['port']) : typeof p['name'] === 'string' ? p['name'] : '*',
    );
    const addresses = objs(slice, 'endpoints').flatMap((e) => strs(e, 'addresses'));
    return {
      cells: [
        str(obj(slice, 'metadata'), 'name'),
        str(slice, 'addressType'),
        listWithMore(ports),
        listWithMore(addresses),
        translateTimestampSince(obj(slice, 'metadata')['creationTimestamp'], now),
      ],
    };
  },
};
