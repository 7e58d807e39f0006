/** Failures the API layer turns into a Status: the HTTP code and reason travel with the error. */

export type TableErrorReason = 'BadRequest' | 'InternalError';

export class TableError extends Error {
  constructor(
    readonly reason: TableErrorReason,
    /** the HTTP status kube-apiserver answers with */
    readonly code: 400 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'TableError';
  }
}

/** kube-apiserver validates TableOptions before listing, so even an empty list is refused. */
export function unsupportedIncludeObject(value: string): TableError {
  return new TableError(
    'BadRequest',
    400,
    `Unable to convert to Table as requested: includeObject: Unsupported value: ${JSON.stringify(value)}: supported values: "Metadata", "None", "Object"`,
  );
}

/** A printer column whose JSONPath does not parse: the server cannot serve the CR's columns. */
export function invalidPrinterColumn(jsonPath: string): TableError {
  return new TableError('InternalError', 500, `unrecognized column definition ${JSON.stringify(jsonPath)}`);
}
