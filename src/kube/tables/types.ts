/** The meta.k8s.io/v1 Table wire format, and what `toTable` needs to build one. */
import type { PrinterColumn } from '../registry/types.js';

/** `?includeObject=`: kubectl asks for Metadata; an empty value means Metadata on the server too. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Every field is always serialized (no omitempty in TableColumnDefinition). */
export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  /** 0 for the default view; kubectl shows >0 only with `-o wide` */
  priority: number;
}

/** kube-apiserver marks finished pods so clients can hide or grey them. */
export interface TableRowCondition {
  type: 'Completed';
  status: 'True';
  reason: string;
  message: string;
}

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: Record<string, unknown>;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  /** null for includeObject=None: a Go RawExtension with no object marshals as `null` */
  object: PartialObjectMetadata | object | null;
}

export interface TableListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: TableListMeta;
  /** null when the client asked for noHeaders (TableOptions.noHeaders) */
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

export interface ToTableInput {
  /** '' for the core group */
  group: string;
  kind: string;
  /** a CRD's additionalPrinterColumns for the served version (empty or absent: NAME + AGE) */
  printerColumns?: PrinterColumn[];
  /**
   * A kind compiled into the server that has no printer here: it gets the generic table
   * (Name, Created At) instead of the custom-resource default. Ignored for kinds with a printer.
   */
  builtIn?: boolean;
  objects: object[];
  now: Date;
  includeObject: IncludeObject;
  resourceVersion?: string;
  continueToken?: string;
  remainingItemCount?: number;
  /** TableOptions.noHeaders: rows only */
  noHeaders?: boolean;
}

/** A printed row before the object is attached. */
export interface PrintedRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
}

/** Turns one object into its row; `now` is the only clock. */
export type RowPrinter = (obj: Record<string, unknown>, now: Date) => PrintedRow;

export interface Printer {
  columns: TableColumnDefinition[];
  row: RowPrinter;
}
