/**
 * The /openapi/v2 document in the protobuf form (gnostic's `openapi.v2.Document`) that kubectl and
 * client-go ask for with `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`.
 * kubectl 1.20 only reads this form (it unmarshals the body as protobuf whatever the server sends),
 * so without it its client-side validation and `explain` fail. Field numbers follow gnostic's
 * OpenAPIv2.proto; vendor extensions and enum values travel as YAML text (JSON is YAML).
 */

/** The Content-Type to answer with: the '@' form clients send in Accept does not parse as a media type in Go. */
export const OPENAPI_V2_PROTOBUF_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/** Both spellings a client may put in Accept (kubectl ≤1.2x sends the '@' one). */
export const OPENAPI_V2_PROTOBUF_ACCEPT: readonly string[] = ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', OPENAPI_V2_PROTOBUF_TYPE];

type J = Record<string, unknown>;

class Writer {
  private chunks: number[] = [];
  varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  string(field: number, s: string | undefined): void {
    if (s === undefined || s === '') return;
    this.bytes(field, new TextEncoder().encode(s));
  }
  strings(field: number, list: unknown): void {
    if (Array.isArray(list)) for (const s of list) this.bytes(field, new TextEncoder().encode(String(s)));
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    for (const x of b) this.chunks.push(x);
  }
  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.bytes(field, w.finish());
  }
  bool(field: number, v: unknown): void {
    if (v !== true) return;
    this.tag(field, 0);
    this.varint(1);
  }
  int(field: number, v: unknown): void {
    if (typeof v !== 'number') return;
    this.tag(field, 0);
    this.varint(Math.trunc(v));
  }
  double(field: number, v: unknown): void {
    if (typeof v !== 'number') return;
    this.tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    for (const x of b) this.chunks.push(x);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

const isObj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `Any { yaml = 2 }` */
const any = (w: Writer, field: number, value: unknown) => w.message(field, (a) => a.string(2, JSON.stringify(value)));

/** `repeated NamedAny vendor_extension` for every `x-` key of `o`. */
function extensions(w: Writer, field: number, o: J): void {
  for (const [k, v] of Object.entries(o)) {
    if (!k.startsWith('x-')) continue;
    w.message(field, (n) => {
      n.string(1, k);
      any(n, 2, v);
    });
  }
}

function schema(w: Writer, s: J): void {
  w.string(1, s.$ref as string);
  w.string(2, s.format as string);
  w.string(3, s.title as string);
  w.string(4, s.description as string);
  if (s.default !== undefined) any(w, 5, s.default);
  w.double(6, s.multipleOf);
  w.double(7, s.maximum);
  w.bool(8, s.exclusiveMaximum);
  w.double(9, s.minimum);
  w.bool(10, s.exclusiveMinimum);
  w.int(11, s.maxLength);
  w.int(12, s.minLength);
  w.string(13, s.pattern as string);
  w.int(14, s.maxItems);
  w.int(15, s.minItems);
  w.bool(16, s.uniqueItems);
  w.int(17, s.maxProperties);
  w.int(18, s.minProperties);
  w.strings(19, s.required);
  if (Array.isArray(s.enum)) for (const e of s.enum) any(w, 20, e);
  if (s.additionalProperties !== undefined) {
    const ap = s.additionalProperties;
    w.message(21, (a) => {
      if (isObj(ap)) a.message(1, (x) => schema(x, ap));
      else {
        a.tag(2, 0);
        a.varint(ap ? 1 : 0);
      }
    });
  }
  if (typeof s.type === 'string') w.message(22, (t) => t.strings(1, [s.type]));
  if (isObj(s.items)) w.message(23, (i) => i.message(1, (x) => schema(x, s.items as J)));
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) if (isObj(sub)) w.message(24, (x) => schema(x, sub));
  if (isObj(s.properties)) {
    const props = s.properties;
    w.message(25, (p) => {
      for (const [name, sub] of Object.entries(props)) {
        if (!isObj(sub)) continue;
        p.message(1, (n) => {
          n.string(1, name);
          n.message(2, (x) => schema(x, sub));
        });
      }
    });
  }
  w.bool(27, s.readOnly);
  if (s.example !== undefined) any(w, 30, s.example);
  extensions(w, 31, s);
}

function parameter(w: Writer, p: J): void {
  if (typeof p.$ref === 'string') {
    w.message(2, (r) => r.string(1, p.$ref as string));
    return;
  }
  w.message(1, (param) => {
    if (p.in === 'body') {
      param.message(1, (b) => {
        b.string(1, p.description as string);
        b.string(2, p.name as string);
        b.string(3, 'body');
        b.bool(4, p.required);
        if (isObj(p.schema)) b.message(5, (x) => schema(x, p.schema as J));
        extensions(b, 6, p);
      });
      return;
    }
    // QueryParameterSubSchema = 3, PathParameterSubSchema = 4, HeaderParameterSubSchema = 1
    const sub = p.in === 'path' ? 4 : p.in === 'header' ? 1 : 3;
    param.message(2, (nb) =>
      nb.message(sub, (x) => {
        x.bool(1, p.required);
        x.string(2, p.in as string);
        x.string(3, p.description as string);
        x.string(4, p.name as string);
        if (sub === 3) {
          x.string(6, p.type as string);
          x.string(7, p.format as string);
          x.bool(20, p.uniqueItems);
          extensions(x, 23, p);
        } else {
          x.string(5, p.type as string);
          x.string(6, p.format as string);
          x.bool(19, p.uniqueItems);
          extensions(x, 22, p);
        }
      }),
    );
  });
}

function operation(w: Writer, op: J): void {
  w.strings(1, op.tags);
  w.string(2, op.summary as string);
  w.string(3, op.description as string);
  w.string(5, op.operationId as string);
  w.strings(6, op.produces);
  w.strings(7, op.consumes);
  if (Array.isArray(op.parameters)) for (const p of op.parameters) if (isObj(p)) w.message(8, (x) => parameter(x, p));
  if (isObj(op.responses)) {
    const responses = op.responses;
    w.message(9, (r) => {
      for (const [code, resp] of Object.entries(responses)) {
        if (!isObj(resp)) continue;
        r.message(1, (n) => {
          n.string(1, code);
          n.message(2, (rv) =>
            rv.message(1, (x) => {
              x.string(1, resp.description as string);
              if (isObj(resp.schema)) x.message(2, (si) => si.message(1, (s) => schema(s, resp.schema as J)));
              extensions(x, 5, resp);
            }),
          );
        });
      }
    });
  }
  w.strings(10, op.schemes);
  w.bool(11, op.deprecated);
  extensions(w, 13, op);
}

const METHODS: [string, number][] = [['get', 2], ['put', 3], ['post', 4], ['delete', 5], ['options', 6], ['head', 7], ['patch', 8]];

/** Encodes a Swagger 2.0 document (as `openApiV2` returns it) as gnostic protobuf. */
export function encodeOpenApiV2Protobuf(doc: Record<string, unknown>): Uint8Array {
  const w = new Writer();
  w.string(1, doc.swagger as string);
  if (isObj(doc.info)) {
    const info = doc.info;
    w.message(2, (i) => {
      i.string(1, info.title as string);
      i.string(2, info.version as string);
      i.string(3, info.description as string);
      extensions(i, 7, info);
    });
  }
  w.string(3, doc.host as string);
  w.string(4, doc.basePath as string);
  w.strings(5, doc.schemes);
  w.strings(6, doc.consumes);
  w.strings(7, doc.produces);
  if (isObj(doc.paths)) {
    const paths = doc.paths;
    w.message(8, (ps) => {
      extensions(ps, 1, paths);
      for (const [path, item] of Object.entries(paths)) {
        if (path.startsWith('x-') || !isObj(item)) continue;
        ps.message(2, (n) => {
          n.string(1, path);
          n.message(2, (pi) => {
            pi.string(1, item.$ref as string);
            for (const [m, f] of METHODS) if (isObj(item[m])) pi.message(f, (o) => operation(o, item[m] as J));
            if (Array.isArray(item.parameters)) for (const p of item.parameters) if (isObj(p)) pi.message(9, (x) => parameter(x, p));
            extensions(pi, 10, item);
          });
        });
      }
    });
  }
  if (isObj(doc.definitions)) {
    const defs = doc.definitions;
    w.message(9, (d) => {
      for (const [name, s] of Object.entries(defs)) {
        if (!isObj(s)) continue;
        d.message(1, (n) => {
          n.string(1, name);
          n.message(2, (x) => schema(x, s));
        });
      }
    });
  }
  if (Array.isArray(doc.security)) {
    for (const req of doc.security) {
      if (!isObj(req)) continue;
      w.message(12, (r) => {
        for (const [name, scopes] of Object.entries(req)) {
          r.message(1, (n) => {
            n.string(1, name);
            n.message(2, (sa) => sa.strings(1, scopes));
          });
        }
      });
    }
  }
  if (isObj(doc.securityDefinitions)) {
    const sd = doc.securityDefinitions;
    w.message(13, (s) => {
      for (const [name, def] of Object.entries(sd)) {
        if (!isObj(def) || def.type !== 'apiKey') continue;
        s.message(1, (n) => {
          n.string(1, name);
          // SecurityDefinitionsItem.api_key_security = 2
          n.message(2, (item) =>
            item.message(2, (k) => {
              k.string(1, 'apiKey');
              k.string(2, def.name as string);
              k.string(3, def.in as string);
              k.string(4, def.description as string);
            }),
          );
        });
      }
    });
  }
  extensions(w, 16, doc);
  return w.finish();
}
