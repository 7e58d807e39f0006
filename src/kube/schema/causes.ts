/**
 * Field problems in the shape kube-apiserver returns them: a `StatusCause` per problem, whose message
 * is the field error without its path (apimachinery's `ErrorBody`) so that kubectl can print
 * `<field>: <message>` exactly as it does against a real cluster.
 */

export type CauseReason =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueTypeInvalid'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueForbidden'
  | 'FieldValueNotFound'
  | 'InternalError';

/** Kubernetes' `metav1.StatusCause`. */
export interface StatusCause {
  reason: CauseReason;
  message: string;
  /** the apiserver's field path: `spec.rules[0].name`, `metadata.name`, `spec.versions[0].schema.openAPIV3Schema.properties[spec].type` */
  field: string;
}

/** The field path as apimachinery's `field.Path` prints it. */
export class FieldPath {
  private constructor(private readonly text: string) {}
  static root(name = ''): FieldPath {
    return new FieldPath(name);
  }
  child(name: string): FieldPath {
    return new FieldPath(this.text === '' ? name : `${this.text}.${name}`);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }
  /** a map key, printed in brackets (`properties[spec]`) */
  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }
  toString(): string {
    return this.text;
  }
}

/**
 * Formats a bad value the way Go's `%v`/`%q`/`%#v` print decoded JSON (strings quoted, numbers bare,
 * maps and slices as Go literals), because the apiserver's messages embed values that way.
 */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return goLiteral(v);
}

function goLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'interface {}(nil)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goLiteral).join(', ')}}`;
  const entries = Object.keys(v as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${goLiteral((v as Record<string, unknown>)[k])}`);
  return `map[string]interface {}{${entries.join(', ')}}`;
}

const TITLES: Record<CauseReason, string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueForbidden: 'Forbidden',
  FieldValueNotFound: 'Not found',
  InternalError: 'Internal error',
};

/** Reasons whose message never shows the bad value. */
const VALUELESS = new Set<CauseReason>(['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong', 'InternalError']);

const OMIT = Symbol('omit');

function cause(reason: CauseReason, path: FieldPath, value: unknown, detail: string): StatusCause {
  let message = TITLES[reason];
  if (!VALUELESS.has(reason) && value !== OMIT) message += `: ${goValue(value)}`;
  if (detail) message += `: ${detail}`;
  return { reason, message, field: path.toString() };
}

export const causes = {
  required: (p: FieldPath, detail = '') => cause('FieldValueRequired', p, undefined, detail),
  invalid: (p: FieldPath, value: unknown, detail: string) => cause('FieldValueInvalid', p, value, detail),
  typeInvalid: (p: FieldPath, value: unknown, detail: string) => cause('FieldValueTypeInvalid', p, value, detail),
  forbidden: (p: FieldPath, detail: string) => cause('FieldValueForbidden', p, undefined, detail),
  duplicate: (p: FieldPath, value: unknown) => cause('FieldValueDuplicate', p, value, ''),
  notSupported: (p: FieldPath, value: unknown, allowed: unknown[]) =>
    cause(
      'FieldValueNotSupported',
      p,
      value,
      allowed.length === 0 ? '' : 'supported values: ' + allowed.map((a) => JSON.stringify(typeof a === 'string' ? a : JSON.stringify(a))).join(', '),
    ),
  tooLong: (p: FieldPath, max: number) => cause('FieldValueTooLong', p, undefined, max >= 0 ? `may not be longer than ${max}` : 'value is too long'),
  tooMany: (p: FieldPath, actual: number, max: number) =>
    cause('FieldValueTooMany', p, actual >= 0 ? actual : OMIT, max >= 0 ? `must have at most ${max} items` : 'has too many items'),
};

/** `<field>: <message>`, one line per cause, as `field.Error.Error()` prints it. */
export function formatCause(c: StatusCause): string {
  return c.field === '' ? c.message : `${c.field}: ${c.message}`;
}

/**
 * The `Status.message` of a 422 Invalid: `Widget.example.com "w1" is invalid: <errors>`, the errors
 * bracketed and comma-joined when there are several (apimachinery's aggregate), duplicates once.
 */
export function invalidMessage(qualifiedKind: string, name: string, list: readonly StatusCause[]): string {
  const lines = [...new Set(list.map(formatCause))];
  const body = lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`;
  return `${qualifiedKind} ${JSON.stringify(name)} is invalid: ${body}`;
}

/** The 400 BadRequest message for `fieldValidation=Strict` when pruning found unknown fields. */
export function strictDecodingMessage(unknownFields: readonly string[]): string {
  return `strict decoding error: ${unknownFieldWarnings(unknownFields).join(', ')}`;
}

/** The `Warning: 299` texts for `fieldValidation=Warn` (and kubectl's default `--validate=true` on newer servers). */
export function unknownFieldWarnings(unknownFields: readonly string[]): string[] {
  return unknownFields.map((f) => `unknown field ${JSON.stringify(f)}`);
}

/** Thrown by `assertValid` so callers can turn it into a 422 with `details.causes`. */
export class SchemaValidationError extends Error {
  readonly causes: readonly StatusCause[];
  constructor(causes: readonly StatusCause[]) {
    super(causes.map(formatCause).join('; '));
    this.name = 'SchemaValidationError';
    this.causes = causes;
  }
}

/** A value as Go's `%#v` prints a typed field of a built-in kind (`[]string{...}` for a string list). */
function typedGoValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * Collects the causes of a built-in (typed) kind's validation, fields given as printed paths, in the
 * words kube-apiserver's `field.Error` uses for them.
 */
export class TypedCauses {
  readonly list: StatusCause[] = [];
  required(field: string, detail = ''): void {
    this.list.push({ reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });
  }
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${typedGoValue(value)}: ${detail}` });
  }
  notSupported(field: string, value: unknown, supported: string[]): void {
    this.list.push({ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${typedGoValue(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}` });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${typedGoValue(value)}` });
  }
  forbidden(field: string, detail: string): void {
    this.list.push({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });
  }
}
