/**
 * Typed failures of the protobuf codec, so the API server can pick a status without parsing
 * messages: ProtobufUnsupportedError → 415 (a kind we have no schema for, or an envelope feature
 * we do not implement), ProtobufDecodeError → 400 (the bytes are not what they claim to be),
 * ProtobufEncodeError → 500 (an object of ours does not fit the schema).
 */

export class ProtobufError extends Error {
  /** JSON-style path of the field at fault (`spec.template.spec.containers[0].ports`), '' for the whole body. */
  readonly path: string;

  constructor(message: string, path = '') {
    super(path ? `${path}: ${message}` : message);
    this.name = 'ProtobufError';
    this.path = path;
  }
}

export class ProtobufUnsupportedError extends ProtobufError {
  readonly apiVersion: string;
  readonly kind: string;

  constructor(message: string, apiVersion = '', kind = '') {
    super(message);
    this.name = 'ProtobufUnsupportedError';
    this.apiVersion = apiVersion;
    this.kind = kind;
  }
}

export class ProtobufDecodeError extends ProtobufError {
  constructor(message: string, path = '') {
    super(message, path);
    this.name = 'ProtobufDecodeError';
  }
}

export class ProtobufEncodeError extends ProtobufError {
  constructor(message: string, path = '') {
    super(message, path);
    this.name = 'ProtobufEncodeError';
  }
}
