/** Aligns rows into columns exactly like kubectl's tabwriter (min width 6, padding 3, last column unpadded). */

const MIN_WIDTH = 6;
const PADDING = 3;

/** Display width in code points, as Go's tabwriter counts runes. */
function width(cell: string): number {
  return [...cell].length;
}

/**
 * Formats a table. Every line ends in `\n`; the last column is never padded so lines carry no
 * trailing spaces, which is what kubectl users diff and grep against.
 */
export function formatTable(header: readonly string[] | undefined, rows: readonly (readonly string[])[]): string {
  const lines = header ? [header, ...rows] : [...rows];
  if (lines.length === 0) return '';
  const columns = Math.max(...lines.map((l) => l.length));
  const widths: number[] = [];
  for (let c = 0; c < columns - 1; c++) {
    const widest = Math.max(...lines.map((l) => width(l[c] ?? '')));
    widths.push(Math.max(widest + PADDING, MIN_WIDTH));
  }
  return lines
    .map((line) => {
      let out = '';
      for (let c = 0; c < line.length; c++) {
        const cell = line[c] ?? '';
        out += c < line.length - 1 && c < widths.length ? cell + ' '.repeat(widths[c]! - width(cell)) : cell;
      }
      return out + '\n';
    })
    .join('');
}
