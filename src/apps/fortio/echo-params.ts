/**
 * The echo server's query parameters, as fortio reads them: `status=503:50,429:10` (a code per
 * percentage of calls, drawn independently per request; a bare `status=503` always), `delay=250ms:10,2s:5`
 * (capped at the max echo delay), `size=1024:50` (a generated body, capped at the max payload size).
 * Pure: the caller supplies the random draw, a number in [0, 100).
 */
import { parseDuration } from './duration.js';

export interface Weighted<T> {
  value: T;
  percent: number;
}

export class EchoParamError extends Error {
  readonly code = 'FORTIO_ERR_ECHO_PARAM';
  constructor(readonly param: string, readonly input: string, reason: string) {
    super(`bad ${param}=${input}: ${reason}`);
  }
}

/** `V` (always) or `V:P,V:P…` with each V read by `readValue`; percentages are floats in [0, 100]. */
function parseWeighted<T>(param: string, input: string, readValue: (text: string) => T | undefined): Weighted<T>[] {
  const entries = input.split(',');
  if (entries.length === 1 && !input.includes(':')) {
    const value = readValue(input.trim());
    if (value === undefined) throw new EchoParamError(param, input, `"${input}" is not a valid value`);
    return [{ value, percent: 100 }];
  }
  return entries.map((entry) => {
    const colon = entry.lastIndexOf(':');
    if (colon === -1) throw new EchoParamError(param, input, `"${entry}" is not VALUE:PERCENT`);
    const value = readValue(entry.slice(0, colon).trim());
    if (value === undefined) throw new EchoParamError(param, input, `"${entry.slice(0, colon)}" is not a valid value`);
    const percentText = entry.slice(colon + 1).trim();
    const percent = Number(percentText);
    if (percentText === '' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new EchoParamError(param, input, `"${percentText}" is not a percentage between 0 and 100`);
    }
    return { value, percent };
  });
}

/** The entry whose cumulative share covers `draw` (in [0, 100)), or undefined for the remaining share. */
export function pick<T>(entries: readonly Weighted<T>[], draw: number): T | undefined {
  let cumulative = 0;
  for (const e of entries) {
    cumulative += e.percent;
    if (draw < cumulative) return e.value;
  }
  return undefined;
}

const readStatus = (text: string): number | undefined => (/^\d{3}$/.test(text) && Number(text) >= 100 ? Number(text) : undefined);
const readSize = (text: string): number | undefined => (/^\d+$/.test(text) ? Number(text) : undefined);
const readDelay = (text: string): number | undefined => {
  const ns = parseDuration(text);
  return ns === undefined || ns < 0 ? undefined : ns;
};

export const parseStatus = (input: string): Weighted<number>[] => parseWeighted('status', input, readStatus);
/** Delays in nanoseconds. */
export const parseDelay = (input: string): Weighted<number>[] => parseWeighted('delay', input, readDelay);
/** Sizes in bytes. */
export const parseSize = (input: string): Weighted<number>[] => parseWeighted('size', input, readSize);

export interface EchoLimits {
  /** nanoseconds; fortio's -max-echo-delay (1.5s) */
  maxDelayNs: number;
  /** bytes; fortio's -maxpayloadsizekb (256 KiB) */
  maxPayloadBytes: number;
}

export const DEFAULT_ECHO_LIMITS: EchoLimits = { maxDelayNs: 1.5e9, maxPayloadBytes: 256 * 1024 };

export interface EchoPlan {
  status: number;
  delayNs: number;
  /** capped below the requested delay */
  delayCapped: boolean;
  /** a generated body of this many bytes instead of the echoed one */
  size?: number;
  headers: [string, string][];
  close: boolean;
}

/**
 * What one request asks for. A malformed `status` answers 400 as fortio does; a malformed delay or
 * size is ignored (fortio logs and carries on), reported in `warnings`.
 */
export function planEcho(query: URLSearchParams, limits: EchoLimits, random: () => number): { plan: EchoPlan; warnings: string[] } {
  const warnings: string[] = [];
  const plan: EchoPlan = { status: 200, delayNs: 0, delayCapped: false, headers: [], close: false };
  const status = query.get('status');
  if (status !== null && status !== '') {
    try {
      plan.status = pick(parseStatus(status), random() * 100) ?? 200;
    } catch (err) {
      warnings.push((err as Error).message);
      plan.status = 400;
    }
  }
  const delay = query.get('delay');
  if (delay !== null && delay !== '') {
    try {
      const ns = pick(parseDelay(delay), random() * 100) ?? 0;
      plan.delayCapped = ns > limits.maxDelayNs;
      plan.delayNs = Math.min(ns, limits.maxDelayNs);
    } catch (err) {
      warnings.push((err as Error).message);
    }
  }
  const size = query.get('size');
  if (size !== null && size !== '') {
    try {
      const bytes = pick(parseSize(size), random() * 100);
      if (bytes !== undefined) plan.size = Math.min(bytes, limits.maxPayloadBytes);
    } catch (err) {
      warnings.push((err as Error).message);
    }
  }
  for (const h of query.getAll('header')) {
    const colon = h.indexOf(':');
    if (colon <= 0) warnings.push(`bad header=${h}: not NAME:VALUE`);
    else plan.headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
  }
  const close = query.get('close');
  plan.close = close !== null && close !== '' && close !== 'false' && close !== '0';
  return { plan, warnings };
}
