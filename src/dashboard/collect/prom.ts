/**
 * The Prometheus text exposition as the sidecar's /metrics writes it (format 0.0.4), read into
 * samples. Only what the dashboard needs: names, labels, values; HELP/TYPE lines are skipped.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;

/** Samples of the metrics whose names pass `keep` (all by default); malformed lines are skipped, not fatal. */
export function parsePrometheus(text: string, keep: (name: string) => boolean = () => true): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m || !keep(m[1]!)) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels = m[2] ? parseLabels(m[2]) : {};
    if (labels) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** `a="x",b="y\"z"` → record; undefined when the text is not a label set. */
function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0 || text[eq + 1] !== '"') return undefined;
    const key = text.slice(i, eq).trim();
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\' && j + 1 < text.length) {
        const c = text[++j];
        value += c === 'n' ? '\n' : c;
      } else value += text[j];
    }
    if (j >= text.length) return undefined;
    labels[key] = value;
    i = j + 1;
    if (text[i] === ',') i++;
  }
  return labels;
}
