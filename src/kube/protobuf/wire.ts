/**
 * Protocol-buffers wire primitives (varints, length-delimited fields, fixed32/64) with nothing
 * Kubernetes-specific in them. Reader errors carry no path; the schema codec adds it.
 */
import { ProtobufDecodeError } from './errors.js';

export const WireType = { VARINT: 0, FIXED64: 1, LEN: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** Groups are long deprecated and never produced by Kubernetes; the bound only stops hostile nesting. */
const MAX_GROUP_DEPTH = 32;

export class Reader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  eof(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as an unsigned 64-bit value; protobuf allows at most 10 bytes. */
  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /** A varint that must fit a non-negative JS number below 2^31 (tags and lengths). */
  smallVarint(what: string): number {
    const v = this.varint();
    if (v > 0x7fffffffn) throw new ProtobufDecodeError(`${what} ${v} out of range`);
    return Number(v);
  }

  tag(): { field: number; wire: number } {
    const t = this.smallVarint('tag');
    const field = t >>> 3;
    if (field === 0) throw new ProtobufDecodeError('field number 0 is invalid');
    return { field, wire: t & 7 };
  }

  /** The payload of a length-delimited field, as a view (no copy). */
  bytes(): Uint8Array {
    const len = this.smallVarint('length');
    if (len > this.end - this.pos) throw new ProtobufDecodeError(`length ${len} runs past the end of the message`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  fixed64(): DataView {
    return this.fixed(8);
  }

  fixed32(): DataView {
    return this.fixed(4);
  }

  private fixed(n: number): DataView {
    if (this.end - this.pos < n) throw new ProtobufDecodeError(`truncated fixed${n * 8}`);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return view;
  }

  /** Skips the value of a field we have no schema for, honouring its wire type. */
  skip(wire: number, field: number, depth = 0): void {
    switch (wire) {
      case WireType.VARINT:
        this.varint();
        return;
      case WireType.FIXED64:
        this.fixed(8);
        return;
      case WireType.LEN:
        this.bytes();
        return;
      case WireType.FIXED32:
        this.fixed(4);
        return;
      case WireType.START_GROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw new ProtobufDecodeError('groups nested too deeply');
        for (;;) {
          if (this.eof()) throw new ProtobufDecodeError(`unterminated group ${field}`);
          const t = this.tag();
          if (t.wire === WireType.END_GROUP) {
            if (t.field !== field) throw new ProtobufDecodeError(`group ${field} closed as ${t.field}`);
            return;
          }
          this.skip(t.wire, t.field, depth + 1);
        }
      }
      default:
        throw new ProtobufDecodeError(`unexpected wire type ${wire} for field ${field}`);
    }
  }
}

/** Appends to one growing buffer; nested messages are written to their own Writer and copied in. */
export class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Negative values are written as their 64-bit two's complement (10 bytes), as protobuf requires for int32 too. */
  varint(v: number | bigint): void {
    let u = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.len++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.len++] = Number(u);
  }

  tag(field: number, wire: WireType): void {
    this.varint((field << 3) | wire);
  }

  lengthDelimited(field: number, payload: Uint8Array): void {
    this.tag(field, WireType.LEN);
    this.varint(payload.length);
    this.raw(payload);
  }

  double(field: number, v: number): void {
    this.tag(field, WireType.FIXED64);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, v, true);
    this.len += 8;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  get length(): number {
    return this.len;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
