/**
 * Reading untyped JSON objects the way Go reads typed ones (absent fields are zero values), and
 * printing values the way Go's fmt, encoding/json and the labels package print them.
 */

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object at a path, `{}` when any step is missing or not an object. */
export function obj(v: unknown, ...path: string[]): Obj {
  let cur: unknown = v;
  for (const key of path) cur = isObj(cur) ? cur[key] : undefined;
  return isObj(cur) ? cur : {};
}

export function str(v: Obj, key: string): string {
  const x = v[key];
  return typeof x === 'string' ? x : '';
}

export function num(v: Obj, key: string): number {
  const x = v[key];
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

export function arr(v: Obj, key: string): unknown[] {
  const x = v[key];
  return Array.isArray(x) ? x : [];
}

/** Array elements that are objects (a Go slice of structs). */
export function objs(v: Obj, key: string): Obj[] {
  return arr(v, key).filter(isObj);
}

export function strs(v: Obj, key: string): string[] {
  return arr(v, key).filter((x): x is string => typeof x === 'string');
}

/** Number of keys of a map field (`len(obj.Data)`). */
export function mapLen(v: Obj, key: string): number {
  return Object.keys(obj(v, key)).length;
}

/** `labels.FormatLabels`: `k=v` pairs sorted by key, `<none>` for an empty map. */
export function formatLabels(labels: Obj): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${typeof labels[k] === 'string' ? labels[k] : ''}`).join(',');
}

const OPERATORS: Record<string, string> = { In: ' in ', NotIn: ' notin ' };

/**
 * `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key, set values sorted,
 * `""` for a nil or empty selector, `<invalid>` when it would not convert.
 */
export function labelSelectorString(selector: unknown): string {
  if (!isObj(selector)) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(obj(selector, 'matchLabels'))) {
    reqs.push({ key, text: `${key}=${typeof value === 'string' ? value : ''}` });
  }
  for (const expr of objs(selector, 'matchExpressions')) {
    const key = str(expr, 'key');
    const op = str(expr, 'operator');
    const values = strs(expr, 'values');
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) return '<invalid>';
      reqs.push({ key, text: `${key}${OPERATORS[op]}(${[...values].sort().join(',')})` });
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) return '<invalid>';
      reqs.push({ key, text: op === 'Exists' ? key : `!${key}` });
    } else {
      return '<invalid>';
    }
  }
  return reqs
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => r.text)
    .join(',');
}

/** `net.JoinHostPort`: IPv6 literals get brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's %v for a float64: shortest digits, exponent form (two-digit exponent) outside [1e-4, 1e6). */
function goFloat(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(v);
}

// JSON integers decode to int64 on the server; anything else is a float64.
const INT64_LIMIT = 2 ** 63;

/** Go's `json.Marshal`: map keys sorted, `<`, `>`, `&` and line separators escaped. */
export function goJSON(v: unknown): string {
  const sorted = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sorted);
    if (!isObj(x)) return x;
    return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sorted(x[k])]));
  };
  return JSON.stringify(sorted(v)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * How client-go's JSONPath prints one result (`PrintResults`): strings raw, maps and slices as
 * JSON, scalars with fmt's %v; a JSON null is an invalid reflect.Value, printed `<no value>`.
 */
export function jsonPathText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'number') {
    return Number.isInteger(v) && Math.abs(v) < INT64_LIMIT ? String(v) : goFloat(v);
  }
  if (typeof v === 'boolean') return String(v);
  return goJSON(v);
}
