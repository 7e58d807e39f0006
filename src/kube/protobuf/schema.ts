/**
 * The shape of a message table and its compiler. Tables are written as Go-like declarations,
 * `'deletionTimestamp *Time'`, `'ownerReferences []OwnerReference'`, `'labels map[string]string'`,
 * `',inline LocalObjectReference'`, so each line can be checked at a glance against the field's Go
 * declaration in k8s.io/api types.go (JSON name, pointer or not) and its number in generated.proto.
 *
 * Pointer-ness matters for decoding: gogo-protobuf writes every non-pointer field, zero or not, so
 * a zero non-pointer field is indistinguishable from an unset one and is dropped (as JSON's
 * omitempty would); a pointer field is only written when set, so its presence is kept even when
 * it is zero (`replicas: 0`, `emptyDir: {}`, `automountServiceAccountToken: false`).
 */

export type ScalarType = 'string' | 'bool' | 'int32' | 'int64' | 'double' | 'bytes';
/** Kubernetes types whose protobuf form is a message but whose JSON form is a scalar or raw JSON. */
export type SpecialType = 'Time' | 'MicroTime' | 'IntOrString' | 'Quantity' | 'FieldsV1';
export type ValueType = ScalarType | SpecialType | { readonly message: string };

export interface FieldSpec {
  readonly number: number;
  /** JSON member name; '' for an inline (embedded) struct whose members sit in the parent's JSON object. */
  readonly json: string;
  readonly type: ValueType;
  readonly repeated: boolean;
  /** map<string, type>: a repeated entry message {1: key, 2: value}, a JSON object in JSON. */
  readonly map: boolean;
  /** A Go pointer (or inline-nullable) field: presence survives a zero value. */
  readonly pointer: boolean;
  readonly inline: boolean;
}

export interface MessageSchema {
  readonly name: string;
  /** Ascending by field number, the order gogo-protobuf writes them in. */
  readonly fields: readonly FieldSpec[];
  readonly byNumber: ReadonlyMap<number, FieldSpec>;
}

/** field number → Go-like declaration; see the module comment. */
export type MessageTable = Readonly<Record<string, Readonly<Record<number, string>>>>;

const SCALARS = new Set<string>(['string', 'bool', 'int32', 'int64', 'double', 'bytes']);
const SPECIALS = new Set<string>(['Time', 'MicroTime', 'IntOrString', 'Quantity', 'FieldsV1']);
const DECL = /^(,inline|[A-Za-z][A-Za-z0-9]*) (\*)?(\[\]|map\[string\])?([A-Za-z][A-Za-z0-9]*)$/;

function parseDecl(message: string, number: number, decl: string): FieldSpec {
  const m = DECL.exec(decl);
  if (!m) throw new Error(`protobuf schema ${message}.${number}: cannot parse '${decl}'`);
  const [, name, star, coll, base] = m as unknown as [string, string, string | undefined, string | undefined, string];
  const inline = name === ',inline';
  const type: ValueType = SCALARS.has(base) || SPECIALS.has(base) ? (base as ScalarType | SpecialType) : { message: base };
  if (inline && (coll || typeof type === 'string')) throw new Error(`protobuf schema ${message}.${number}: only a single message can be inline`);
  return { number, json: inline ? '' : name, type, repeated: coll === '[]', map: coll === 'map[string]', pointer: star === '*', inline };
}

/** Compiles tables into schemas, checking that every message reference resolves. */
export function compileTables(...tables: MessageTable[]): ReadonlyMap<string, MessageSchema> {
  const out = new Map<string, MessageSchema>();
  for (const table of tables) {
    for (const [name, decls] of Object.entries(table)) {
      if (out.has(name)) throw new Error(`protobuf schema: message ${name} defined twice`);
      const fields = Object.entries(decls)
        .map(([n, d]) => parseDecl(name, Number(n), d))
        .sort((a, b) => a.number - b.number);
      out.set(name, { name, fields, byNumber: new Map(fields.map((f) => [f.number, f])) });
    }
  }
  for (const schema of out.values()) {
    for (const f of schema.fields) {
      if (typeof f.type !== 'string' && !out.has(f.type.message)) {
        throw new Error(`protobuf schema ${schema.name}.${f.json || f.number}: unknown message ${f.type.message}`);
      }
    }
  }
  return out;
}
