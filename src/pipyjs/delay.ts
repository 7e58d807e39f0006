/**
 * Pipy's duration strings: a number with an optional unit d/h/m/s (case-insensitive), pairs summed,
 * unit-less meaning seconds. Units cascade as in Pipy, so '500ms' is 500 minutes. Unparseable → 0.
 */
const UNIT_SECONDS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };

export function delaySeconds(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : 0;
  if (typeof value !== 'string') return 0;
  const re = /\s*([0-9]*\.?[0-9]+)\s*([dhms]?)/iy;
  let total = 0;
  let matched = false;
  for (;;) {
    const m = re.exec(value);
    if (!m) break;
    matched = true;
    total += Number(m[1]) * (UNIT_SECONDS[(m[2] || 's').toLowerCase()] ?? 1);
  }
  return matched && Number.isFinite(total) ? total : 0;
}
