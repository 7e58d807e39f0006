/**
 * Trace context: W3C traceparent and B3 (multi-header and single `b3`). IDs come from a
 * refilled random pool so a request does not pay a crypto call.
 */
import { randomFillSync } from 'node:crypto';
import type { HeaderMap } from '../http/types.js';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return s;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceContext {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  sampled: boolean;
}

/**
 * Continues the incoming trace (traceparent wins over B3) with a new span for this hop, or starts
 * one, and writes both header families so either kind of tracer downstream can continue it.
 */
export function propagate(headers: HeaderMap): TraceContext {
  const tp = readTraceparent(headers);
  const b3 = tp && headers['x-b3-traceid'] === undefined && headers['b3'] === undefined ? undefined : readB3(headers);
  // A hop that got B3 writes both families; the next hop keeps B3's (possibly 64-bit) trace id form.
  if (tp && b3 && b3.traceId === tp.traceId) tp.b3TraceId = b3.b3TraceId;
  const incoming = tp ?? b3;
  const ctx: TraceContext = incoming
    ? { traceId: incoming.traceId, spanId: randomHex(8), parentSpanId: incoming.spanId, sampled: incoming.sampled }
    : { traceId: randomHex(16), spanId: randomHex(8), parentSpanId: undefined, sampled: true };
  headers['traceparent'] = `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
  // B3 trace ids may be 64-bit; keep the incoming form when it came in as B3.
  const b3Trace = incoming?.b3TraceId ?? ctx.traceId;
  headers['x-b3-traceid'] = b3Trace;
  headers['x-b3-spanid'] = ctx.spanId;
  if (ctx.parentSpanId) headers['x-b3-parentspanid'] = ctx.parentSpanId;
  else delete headers['x-b3-parentspanid'];
  headers['x-b3-sampled'] = ctx.sampled ? '1' : '0';
  if (headers['b3'] !== undefined) headers['b3'] = `${b3Trace}-${ctx.spanId}-${ctx.sampled ? '1' : '0'}${ctx.parentSpanId ? `-${ctx.parentSpanId}` : ''}`;
  return ctx;
}

interface Incoming {
  traceId: string;
  spanId: string;
  sampled: boolean;
  b3TraceId?: string;
}

function one(h: HeaderMap, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function readTraceparent(h: HeaderMap): Incoming | undefined {
  const v = one(h, 'traceparent');
  if (!v) return undefined;
  const m = TRACEPARENT.exec(v.trim().toLowerCase());
  if (!m || m[1] === 'ff' || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, sampled: (parseInt(m[4]!, 16) & 1) === 1 };
}

function readB3(h: HeaderMap): Incoming | undefined {
  const single = one(h, 'b3');
  if (single && single !== '0' && single !== '1' && single !== 'd') {
    const [trace, span, sampled] = single.trim().toLowerCase().split('-');
    if (trace && span && /^[0-9a-f]{16}([0-9a-f]{16})?$/.test(trace) && /^[0-9a-f]{16}$/.test(span)) {
      return { traceId: trace.padStart(32, '0'), spanId: span, sampled: sampled !== '0', b3TraceId: trace };
    }
  }
  const trace = one(h, 'x-b3-traceid')?.trim().toLowerCase();
  const span = one(h, 'x-b3-spanid')?.trim().toLowerCase();
  if (trace && span && /^[0-9a-f]{16}([0-9a-f]{16})?$/.test(trace) && /^[0-9a-f]{16}$/.test(span)) {
    const s = one(h, 'x-b3-sampled');
    return { traceId: trace.padStart(32, '0'), spanId: span, sampled: s !== '0', b3TraceId: trace };
  }
  return undefined;
}
