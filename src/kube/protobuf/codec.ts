/**
 * Schema-driven conversion between protobuf message bytes and the JSON object the Kubernetes
 * JSON API uses for the same value. Decoding follows gogo-protobuf (what kube's Go code runs):
 * a repeated occurrence of a singular message merges into it, scalars are last-one-wins, and
 * unknown fields are skipped; the zero/pointer rules are described in schema.ts.
 */
import { ProtobufDecodeError, ProtobufEncodeError } from './errors.js';
import { messageSchema } from './kinds.js';
import type { FieldSpec, MessageSchema, ValueType } from './schema.js';
import { Reader, WireType, Writer } from './wire.js';

type J = Record<string, unknown>;

// Go does not validate UTF-8 in proto2 strings and its JSON encoder writes U+FFFD for bad bytes.
const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Go's zero time.Time (0001-01-01T00:00:00Z), which metav1.Time renders as JSON null. */
const ZERO_TIME_SECONDS = -62135596800;

const join = (path: string, name: string): string => (path ? `${path}.${name}` : name);
const isPlainObject = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Own-property write, so a map key such as `__proto__` stays data. */
function put(obj: J, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function own(obj: J, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** Gives a path-less reader error the path of the field being read; nested errors keep their own. */
function at<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProtobufDecodeError && e.path === '') throw new ProtobufDecodeError(e.message, path);
    throw e;
  }
}

function expectWire(wire: number, want: number, type: string): void {
  if (wire !== want) throw new ProtobufDecodeError(`wire type ${wire} where ${type} needs ${want}`);
}

const typeName = (t: ValueType): string => (typeof t === 'string' ? t : t.message);

// ---------------------------------------------------------------------------------------------
// decode

export function decodeMessage(schema: MessageSchema, bytes: Uint8Array, path = ''): J {
  const out: J = {};
  decodeInto(out, schema, bytes, path);
  return out;
}

function decodeInto(out: J, schema: MessageSchema, bytes: Uint8Array, path: string): void {
  const r = new Reader(bytes);
  while (!r.eof()) {
    const { field, wire } = at(path, () => r.tag());
    const spec = schema.byNumber.get(field);
    if (!spec) {
      at(join(path, `#${field}`), () => r.skip(wire, field));
      continue;
    }
    const fpath = spec.inline ? path : join(path, spec.json);
    at(fpath, () => decodeField(out, spec, wire, r, fpath));
  }
}

function decodeField(out: J, spec: FieldSpec, wire: number, r: Reader, path: string): void {
  if (spec.map) {
    expectWire(wire, WireType.LEN, 'a map entry');
    const existing = own(out, spec.json);
    const map = isPlainObject(existing) ? existing : {};
    const [key, value] = decodeMapEntry(spec.type, r.bytes(), path);
    put(map, key, value);
    put(out, spec.json, map);
    return;
  }
  if (spec.repeated) {
    const existing = own(out, spec.json);
    const list = Array.isArray(existing) ? existing : [];
    put(out, spec.json, list);
    if (wire === WireType.LEN && isPackable(spec.type)) {
      // proto2 writes repeated numbers unpacked, but a conforming parser must take both forms.
      const packed = new Reader(r.bytes());
      while (!packed.eof()) list.push(readValue(spec.type, packedWire(spec.type), packed, `${path}[${list.length}]`).value ?? null);
      return;
    }
    const itemPath = `${path}[${list.length}]`;
    list.push(at(itemPath, () => readValue(spec.type, wire, r, itemPath)).value ?? null);
    return;
  }
  if (typeof spec.type !== 'string') {
    expectWire(wire, WireType.LEN, 'a message');
    const sub = messageSchema(spec.type.message);
    if (spec.inline) {
      decodeInto(out, sub, r.bytes(), path);
      return;
    }
    const existing = own(out, spec.json);
    const target = isPlainObject(existing) ? existing : {};
    decodeInto(target, sub, r.bytes(), path);
    if (!spec.pointer && Object.keys(target).length === 0) delete out[spec.json];
    else put(out, spec.json, target);
    return;
  }
  const { value, zero } = readValue(spec.type, wire, r, path);
  if (value === undefined || (zero && !spec.pointer)) delete out[spec.json];
  else put(out, spec.json, value);
}

function isPackable(t: ValueType): boolean {
  return t === 'bool' || t === 'int32' || t === 'int64' || t === 'double';
}

function packedWire(t: ValueType): number {
  return t === 'double' ? WireType.FIXED64 : WireType.VARINT;
}

/** One value of `type`; `value` undefined means JSON null (a zero metav1.Time), `zero` marks Go's zero value. */
function readValue(type: ValueType, wire: number, r: Reader, path: string): { value: unknown; zero: boolean } {
  switch (type) {
    case 'string': {
      expectWire(wire, WireType.LEN, type);
      const s = utf8Decoder.decode(r.bytes());
      return { value: s, zero: s === '' };
    }
    case 'bytes': {
      expectWire(wire, WireType.LEN, type);
      const b = r.bytes();
      return { value: Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64'), zero: b.length === 0 };
    }
    case 'bool': {
      expectWire(wire, WireType.VARINT, type);
      const b = r.varint() !== 0n;
      return { value: b, zero: !b };
    }
    case 'int32': {
      expectWire(wire, WireType.VARINT, type);
      const n = Number(BigInt.asIntN(32, r.varint()));
      return { value: n, zero: n === 0 };
    }
    case 'int64': {
      expectWire(wire, WireType.VARINT, type);
      const n = Number(BigInt.asIntN(64, r.varint()));
      return { value: n, zero: n === 0 };
    }
    case 'double': {
      expectWire(wire, WireType.FIXED64, type);
      const n = r.fixed64().getFloat64(0, true);
      return { value: n, zero: n === 0 };
    }
    case 'Time':
    case 'MicroTime': {
      expectWire(wire, WireType.LEN, type);
      const t = decodeTime(r.bytes(), type === 'MicroTime');
      return { value: t, zero: t === undefined };
    }
    case 'IntOrString': {
      expectWire(wire, WireType.LEN, type);
      const v = decodeIntOrString(r.bytes());
      return { value: v, zero: v === 0 };
    }
    case 'Quantity': {
      expectWire(wire, WireType.LEN, type);
      const q = decodeQuantity(r.bytes());
      return { value: q, zero: q === '' };
    }
    case 'FieldsV1': {
      expectWire(wire, WireType.LEN, type);
      const v = decodeFieldsV1(r.bytes());
      return { value: v, zero: v === undefined };
    }
    default: {
      expectWire(wire, WireType.LEN, 'a message');
      return { value: decodeMessage(messageSchema(type.message), r.bytes(), path), zero: false };
    }
  }
}

function decodeMapEntry(type: ValueType, bytes: Uint8Array, path: string): [string, unknown] {
  const r = new Reader(bytes);
  let key = '';
  let value: unknown;
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire(wire, WireType.LEN, 'a map key');
      key = utf8Decoder.decode(r.bytes());
    } else if (field === 2) {
      const vpath = `${path}[${JSON.stringify(key)}]`;
      value = at(vpath, () => readValue(type, wire, r, vpath)).value;
    } else {
      r.skip(wire, field);
    }
  }
  // An entry may omit a zero value; Go then stores the type's zero value.
  if (value === undefined) value = zeroJson(type);
  return [key, value];
}

function zeroJson(type: ValueType): unknown {
  switch (type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    case 'int32':
    case 'int64':
    case 'double':
    case 'IntOrString':
      return 0;
    case 'Quantity':
      return '0';
    case 'Time':
    case 'MicroTime':
    case 'FieldsV1':
      return null;
    default:
      return {};
  }
}

/** metav1.Time / MicroTime: {seconds int64 = 1, nanos int32 = 2}; an empty message is the zero time. */
function decodeTime(bytes: Uint8Array, micro: boolean): string | undefined {
  if (bytes.length === 0) return undefined;
  const r = new Reader(bytes);
  let seconds = 0;
  let nanos = 0;
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire(wire, WireType.VARINT, 'seconds');
      seconds = Number(BigInt.asIntN(64, r.varint()));
    } else if (field === 2) {
      expectWire(wire, WireType.VARINT, 'nanos');
      nanos = Number(BigInt.asIntN(32, r.varint()));
    } else {
      r.skip(wire, field);
    }
  }
  if (seconds === ZERO_TIME_SECONDS && nanos === 0) return undefined;
  if (nanos < 0 || nanos > 999_999_999) throw new ProtobufDecodeError(`nanos ${nanos} out of range`);
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) {
    throw new ProtobufDecodeError(`time ${seconds}s is outside RFC 3339's years 0000-9999`);
  }
  const base = d.toISOString().slice(0, 19);
  // metav1.Time has whole seconds in JSON (its protobuf Unmarshal drops nanos too); MicroTime has microseconds.
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** intstr.IntOrString: {type int64 = 1 (0 int, 1 string), intVal int32 = 2, strVal string = 3}. */
function decodeIntOrString(bytes: Uint8Array): number | string {
  const r = new Reader(bytes);
  let type = 0n;
  let intVal = 0;
  let strVal = '';
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire(wire, WireType.VARINT, 'type');
      type = BigInt.asIntN(64, r.varint());
    } else if (field === 2) {
      expectWire(wire, WireType.VARINT, 'intVal');
      intVal = Number(BigInt.asIntN(32, r.varint()));
    } else if (field === 3) {
      expectWire(wire, WireType.LEN, 'strVal');
      strVal = utf8Decoder.decode(r.bytes());
    } else {
      r.skip(wire, field);
    }
  }
  if (type === 0n) return intVal;
  if (type === 1n) return strVal;
  throw new ProtobufDecodeError(`IntOrString type ${type} is neither 0 (int) nor 1 (string)`);
}

/** resource.Quantity: {string = 1}, its canonical text. */
function decodeQuantity(bytes: Uint8Array): string {
  const r = new Reader(bytes);
  let s = '';
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire(wire, WireType.LEN, 'string');
      s = utf8Decoder.decode(r.bytes());
    } else {
      r.skip(wire, field);
    }
  }
  return s;
}

/** metav1.FieldsV1: {Raw bytes = 1} holding JSON text, which is the JSON form itself. */
function decodeFieldsV1(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  let raw: Uint8Array | undefined;
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire(wire, WireType.LEN, 'Raw');
      raw = r.bytes();
    } else {
      r.skip(wire, field);
    }
  }
  if (!raw || raw.length === 0) return undefined;
  try {
    return JSON.parse(utf8Decoder.decode(raw));
  } catch {
    throw new ProtobufDecodeError('FieldsV1 does not hold JSON');
  }
}

// ---------------------------------------------------------------------------------------------
// encode

/**
 * Encodes `obj` as `schema`. Members the schema does not know are not written; null counts as
 * unset. Non-pointer fields holding their zero value are left out (gogo would write them, but a
 * decoder cannot tell the difference), pointer fields are written whenever set.
 */
export function encodeMessage(schema: MessageSchema, obj: J, path = ''): Uint8Array {
  const w = new Writer();
  encodeInto(w, schema, obj, path);
  return w.finish();
}

function encodeInto(w: Writer, schema: MessageSchema, obj: J, path: string): void {
  for (const f of schema.fields) {
    if (f.inline) {
      const sub = encodeMessage(messageSchema(typeName(f.type)), obj, path);
      if (sub.length > 0) w.lengthDelimited(f.number, sub);
      continue;
    }
    const v = own(obj, f.json);
    if (v === undefined || v === null) continue;
    const fpath = join(path, f.json);
    if (f.map) {
      if (!isPlainObject(v)) throw new ProtobufEncodeError('expected an object', fpath);
      // Sorted like gogo's generated marshallers, so equal maps give equal bytes.
      for (const key of Object.keys(v).sort()) {
        const entry = new Writer();
        entry.lengthDelimited(1, utf8Encoder.encode(key));
        writeValue(entry, 2, f.type, v[key] ?? zeroJson(f.type), `${fpath}[${JSON.stringify(key)}]`, true);
        w.lengthDelimited(f.number, entry.finish());
      }
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new ProtobufEncodeError('expected an array', fpath);
      v.forEach((item, i) => writeValue(w, f.number, f.type, item ?? zeroJson(f.type), `${fpath}[${i}]`, true));
    } else {
      writeValue(w, f.number, f.type, v, fpath, f.pointer);
    }
  }
}

function writeValue(w: Writer, number: number, type: ValueType, v: unknown, path: string, keepZero: boolean): void {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw new ProtobufEncodeError('expected a string', path);
      if (v !== '' || keepZero) w.lengthDelimited(number, utf8Encoder.encode(v));
      return;
    case 'bytes': {
      if (typeof v !== 'string' || !isBase64(v)) throw new ProtobufEncodeError('expected a base64 string', path);
      if (v !== '' || keepZero) w.lengthDelimited(number, Buffer.from(v, 'base64'));
      return;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw new ProtobufEncodeError('expected a boolean', path);
      if (v || keepZero) {
        w.tag(number, WireType.VARINT);
        w.varint(v ? 1 : 0);
      }
      return;
    case 'int32':
    case 'int64': {
      const n = integer(v, type, path);
      if (n !== 0 || keepZero) {
        w.tag(number, WireType.VARINT);
        w.varint(n);
      }
      return;
    }
    case 'double':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtobufEncodeError('expected a finite number', path);
      if (v !== 0 || keepZero) w.double(number, v);
      return;
    case 'Time':
    case 'MicroTime':
      w.lengthDelimited(number, encodeTime(v, path));
      return;
    case 'IntOrString': {
      if (v === 0 && !keepZero) return;
      w.lengthDelimited(number, encodeIntOrString(v, path));
      return;
    }
    case 'Quantity': {
      if (typeof v === 'number' && Number.isFinite(v)) v = String(v);
      if (typeof v !== 'string') throw new ProtobufEncodeError('expected a quantity string', path);
      if (v === '' && !keepZero) return;
      const q = new Writer();
      q.lengthDelimited(1, utf8Encoder.encode(v));
      w.lengthDelimited(number, q.finish());
      return;
    }
    case 'FieldsV1': {
      const f = new Writer();
      f.lengthDelimited(1, utf8Encoder.encode(JSON.stringify(v)));
      w.lengthDelimited(number, f.finish());
      return;
    }
    default: {
      if (!isPlainObject(v)) throw new ProtobufEncodeError('expected an object', path);
      const sub = encodeMessage(messageSchema(type.message), v, path);
      if (sub.length > 0 || keepZero) w.lengthDelimited(number, sub);
    }
  }
}

function integer(v: unknown, type: 'int32' | 'int64', path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ProtobufEncodeError(`expected an integer (${type})`, path);
  if (type === 'int32' && (v < -0x80000000 || v > 0x7fffffff)) throw new ProtobufEncodeError(`${v} does not fit int32`, path);
  if (type === 'int64' && (v < -(2 ** 63) || v >= 2 ** 63)) throw new ProtobufEncodeError(`${v} does not fit int64`, path);
  return v;
}

function isBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function encodeTime(v: unknown, path: string): Uint8Array {
  const m = typeof v === 'string' ? RFC3339.exec(v) : null;
  if (!m) throw new ProtobufEncodeError('expected an RFC 3339 time', path);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  let seconds = Math.floor(date.getTime() / 1000);
  if (m[9]) seconds -= (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 3600 + Number(m[11]) * 60);
  const nanos = m[7] ? Number(m[7].padEnd(9, '0')) : 0;
  const w = new Writer();
  // gogo writes both members of its Timestamp unconditionally.
  w.tag(1, WireType.VARINT);
  w.varint(seconds);
  w.tag(2, WireType.VARINT);
  w.varint(nanos);
  return w.finish();
}

function encodeIntOrString(v: unknown, path: string): Uint8Array {
  const w = new Writer();
  if (typeof v === 'number') {
    const n = integer(v, 'int32', path);
    w.tag(1, WireType.VARINT);
    w.varint(0);
    w.tag(2, WireType.VARINT);
    w.varint(n);
    w.lengthDelimited(3, new Uint8Array(0));
  } else if (typeof v === 'string') {
    w.tag(1, WireType.VARINT);
    w.varint(1);
    w.tag(2, WireType.VARINT);
    w.varint(0);
    w.lengthDelimited(3, utf8Encoder.encode(v));
  } else {
    throw new ProtobufEncodeError('expected an integer or a string', path);
  }
  return w.finish();
}
