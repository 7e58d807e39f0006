/** Go's fmt verbs fortio prints its figures with, so the summary reads digit for digit like fortio's. */

/** `%.Ng`: N significant digits, exponent form for very small or large values, trailing zeros dropped. */
export function formatG(value: number, precision: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  if (value === 0) return '0';
  const [mantissa, exp] = value.toExponential(precision - 1).split('e') as [string, string];
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= precision) {
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    const e = Math.abs(exponent);
    return `${m}e${exponent < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  }
  const fixed = value.toFixed(Math.max(0, precision - 1 - exponent));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** `%v` of a float64: the shortest text that reads back as the same number (Go's exponent form past 1e21 or under 1e-4). */
export function formatV(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-4 || abs >= 1e21) {
    const [m, e] = value.toExponential().split('e') as [string, string];
    const n = Math.abs(Number(e));
    return `${m}e${Number(e) < 0 ? '-' : '+'}${n < 10 ? `0${n}` : n}`;
  }
  return String(value);
}
