/**
 * Kubernetes' protobuf body: the 4 bytes `k8s\0`, then a runtime.Unknown
 * {typeMeta{apiVersion = 1, kind = 2} = 1, raw = 2, contentEncoding = 3, contentType = 4} whose
 * `raw` is the object's own message. The object message carries no apiVersion/kind; the
 * envelope's are copied onto the JSON result, as the JSON API would have received them.
 */
import { decodeMessage, encodeMessage } from './codec.js';
import { ProtobufDecodeError, ProtobufEncodeError, ProtobufUnsupportedError } from './errors.js';
import { schemaForKind } from './kinds.js';
import { Reader, WireType, Writer } from './wire.js';

export const KUBE_PROTOBUF_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

export interface DecodedKubeObject {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

function hasMagic(body: Uint8Array): boolean {
  return body.length >= 4 && KUBE_PROTOBUF_MAGIC.every((b, i) => body[i] === b);
}

function readString(r: Reader, wire: number, path: string): string {
  if (wire !== WireType.LEN) throw new ProtobufDecodeError(`wire type ${wire} where a string needs 2`, path);
  return utf8Decoder.decode(r.bytes());
}

function readEnvelope(body: Uint8Array): Envelope {
  const env: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(0), contentEncoding: '', contentType: '' };
  const r = new Reader(body, 4);
  try {
    while (!r.eof()) {
      const { field, wire } = r.tag();
      if (field === 1) {
        if (wire !== WireType.LEN) throw new ProtobufDecodeError(`wire type ${wire} where a message needs 2`, 'typeMeta');
        const tm = new Reader(r.bytes());
        while (!tm.eof()) {
          const t = tm.tag();
          if (t.field === 1) env.apiVersion = readString(tm, t.wire, 'typeMeta.apiVersion');
          else if (t.field === 2) env.kind = readString(tm, t.wire, 'typeMeta.kind');
          else tm.skip(t.wire, t.field);
        }
      } else if (field === 2) {
        if (wire !== WireType.LEN) throw new ProtobufDecodeError(`wire type ${wire} where bytes need 2`, 'raw');
        env.raw = r.bytes();
      } else if (field === 3) {
        env.contentEncoding = readString(r, wire, 'contentEncoding');
      } else if (field === 4) {
        env.contentType = readString(r, wire, 'contentType');
      } else {
        r.skip(wire, field);
      }
    }
  } catch (e) {
    if (e instanceof ProtobufDecodeError && e.path === '') throw new ProtobufDecodeError(e.message, '(envelope)');
    throw e;
  }
  return env;
}

/**
 * Decodes an `application/vnd.kubernetes.protobuf` body into the JSON object the JSON API would
 * have received. Throws ProtobufDecodeError for malformed bytes and ProtobufUnsupportedError for
 * a kind without a schema (or an envelope feature we do not implement).
 */
export function decodeKubeProtobuf(body: Uint8Array): DecodedKubeObject {
  if (!hasMagic(body)) throw new ProtobufDecodeError('body does not start with the k8s\\0 protobuf magic');
  const env = readEnvelope(body);
  if (env.contentEncoding !== '') {
    throw new ProtobufUnsupportedError(`content encoding '${env.contentEncoding}' is not supported`, env.apiVersion, env.kind);
  }
  if (env.apiVersion === '' || env.kind === '') throw new ProtobufDecodeError('the envelope names no apiVersion and kind', 'typeMeta');
  const ct = env.contentType.split(';')[0]!.trim().toLowerCase();
  let decoded: Record<string, unknown>;
  if (ct === 'application/json') {
    // runtime.Unknown may carry JSON; accept it rather than refuse a well-formed body.
    try {
      const parsed: unknown = JSON.parse(utf8Decoder.decode(env.raw));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      decoded = parsed as Record<string, unknown>;
    } catch {
      throw new ProtobufDecodeError('raw is not a JSON object', 'raw');
    }
  } else if (ct === '' || ct === 'application/vnd.kubernetes.protobuf') {
    const schema = schemaForKind(env.apiVersion, env.kind);
    if (!schema) throw new ProtobufUnsupportedError(`no protobuf schema for ${env.apiVersion} ${env.kind}`, env.apiVersion, env.kind);
    decoded = decodeMessage(schema, env.raw);
  } else {
    throw new ProtobufUnsupportedError(`raw content type '${env.contentType}' is not supported`, env.apiVersion, env.kind);
  }
  const { apiVersion: _a, kind: _k, ...rest } = decoded;
  return { apiVersion: env.apiVersion, kind: env.kind, object: { apiVersion: env.apiVersion, kind: env.kind, ...rest } };
}

/** Encodes a JSON object of a supported kind (its own apiVersion and kind choose the schema). */
export function encodeKubeProtobuf(obj: Record<string, unknown>): Buffer {
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || apiVersion === '' || kind === '') {
    throw new ProtobufEncodeError('the object needs string apiVersion and kind');
  }
  const schema = schemaForKind(apiVersion, kind);
  if (!schema) throw new ProtobufUnsupportedError(`no protobuf schema for ${apiVersion} ${kind}`, apiVersion, kind);
  const raw = encodeMessage(schema, obj);
  const typeMeta = new Writer();
  typeMeta.lengthDelimited(1, utf8Encoder.encode(apiVersion));
  typeMeta.lengthDelimited(2, utf8Encoder.encode(kind));
  const w = new Writer();
  w.raw(KUBE_PROTOBUF_MAGIC);
  w.lengthDelimited(1, typeMeta.finish());
  w.lengthDelimited(2, raw);
  // Go's serializer writes the two empty strings too; kept so our bytes match its.
  w.lengthDelimited(3, new Uint8Array(0));
  w.lengthDelimited(4, new Uint8Array(0));
  const out = w.finish();
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}
