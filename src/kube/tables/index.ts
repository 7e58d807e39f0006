/**
 * Server-side tables (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): pure functions that
 * turn stored objects into the meta.k8s.io/v1 Table kube-apiserver would answer with.
 */
export { toTable, partialObjectMetadata } from './table.js';
export { printerFor, builtInPrinter, type PrinterFor } from './printers.js';
export { customResourcePrinter, genericPrinter, DEFAULT_CR_COLUMNS } from './custom.js';
export { podPrinter, printPod } from './pod.js';
export {
  namespacePrinter,
  servicePrinter,
  endpointsPrinter,
  configMapPrinter,
  secretPrinter,
  serviceAccountPrinter,
  formatEndpoints,
} from './core.js';
export { eventPrinter, eventsV1Printer, printEvent, fromEventsV1 } from './event.js';
export { deploymentPrinter, containerCells } from './apps.js';
export { endpointSlicePrinter } from './discovery.js';
export { humanDuration, translateTimestampSince, parseTimestamp, formatRFC3339 } from './duration.js';
export { formatLabels, labelSelectorString, jsonPathText, goJSON, joinHostPort } from './values.js';
export { column, NAME_COLUMN, AGE_COLUMN } from './columns.js';
export { DOC } from './descriptions.js';
export { TableError, unsupportedIncludeObject, invalidPrinterColumn, type TableErrorReason } from './errors.js';
export type {
  IncludeObject,
  Table,
  TableColumnDefinition,
  TableRow,
  TableRowCondition,
  TableListMeta,
  PartialObjectMetadata,
  ToTableInput,
  Printer,
  PrintedRow,
  RowPrinter,
} from './types.js';
