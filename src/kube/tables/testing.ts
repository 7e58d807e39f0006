/** Shared clock and timestamp helpers for the table tests. */
export const NOW = new Date('2024-05-01T12:00:00Z');

const S = 1000;
export const SEC = S;
export const MIN = 60 * S;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** An RFC 3339 timestamp `ms` before NOW, in the whole-second form the API server stores. */
export function ago(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
