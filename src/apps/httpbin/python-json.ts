/** Python-flavoured JSON: parse like `json.loads` (ints stay ints) and print like Flask 1.0's pretty `jsonify`. */

/**
 * A JSON value as Python sees it. `bigint` is a Python int and `number` a Python float, so
 * a client's `1.0` comes back as `1.0` and big integers keep every digit, as httpbin shows them.
 */
export type PyValue = null | boolean | string | bigint | number | PyValue[] | { [key: string]: PyValue };

/** An empty dict with no prototype, so keys such as `__proto__` from clients are plain keys. */
export function pyDict(): { [key: string]: PyValue } {
  return Object.create(null) as { [key: string]: PyValue };
}

/** Thrown for text `json.loads` would reject; callers turn it into httpbin's `"json": null`. */
export class PyJsonError extends Error {}

// Python would hit RecursionError long before this; we only need to stay off the JS stack limit.
const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** Parses `text` with the grammar of Python's `json.loads` (which also accepts NaN and ±Infinity). */
export function parsePythonJson(text: string): PyValue {
  let pos = 0;

  const skipWhitespace = (): void => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.exec(text);
    pos = WHITESPACE.lastIndex;
  };
  const fail = (what: string): never => {
    throw new PyJsonError(`${what} at char ${pos}`);
  };
  const takeLiteral = (literal: string): boolean => {
    if (!text.startsWith(literal, pos)) return false;
    pos += literal.length;
    return true;
  };

  const parseString = (): string => {
    pos++; // opening quote
    let out = '';
    for (;;) {
      const ch = text.charCodeAt(pos);
      if (Number.isNaN(ch)) fail('Unterminated string');
      if (ch === 0x22) {
        pos++;
        return out;
      }
      if (ch < 0x20) fail('Invalid control character');
      if (ch !== 0x5c) {
        out += text[pos++];
        continue;
      }
      const esc = text[pos + 1];
      pos += 2;
      switch (esc) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid \\uXXXX escape');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 4;
          break;
        }
        default:
          fail('Invalid \\escape');
      }
    }
  };

  const parseValue = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail('Nesting too deep');
    skipWhitespace();
    const ch = text[pos];
    if (ch === '"') return parseString();
    if (ch === '{') {
      pos++;
      const obj = pyDict();
      skipWhitespace();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        skipWhitespace();
        if (text[pos] !== '"') fail('Expecting property name enclosed in double quotes');
        const key = parseString();
        skipWhitespace();
        if (text[pos++] !== ':') fail("Expecting ':' delimiter");
        obj[key] = parseValue(depth + 1);
        skipWhitespace();
        const sep = text[pos++];
        if (sep === '}') return obj;
        if (sep !== ',') fail("Expecting ',' delimiter");
      }
    }
    if (ch === '[') {
      pos++;
      const arr: PyValue[] = [];
      skipWhitespace();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        skipWhitespace();
        const sep = text[pos++];
        if (sep === ']') return arr;
        if (sep !== ',') fail("Expecting ',' delimiter");
      }
    }
    if (takeLiteral('null')) return null;
    if (takeLiteral('true')) return true;
    if (takeLiteral('false')) return false;
    if (takeLiteral('NaN')) return NaN;
    if (takeLiteral('Infinity')) return Infinity;
    if (takeLiteral('-Infinity')) return -Infinity;
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (!match) return fail('Expecting value');
    pos = NUMBER.lastIndex;
    const isFloat = match[1] !== undefined || match[2] !== undefined;
    return isFloat ? Number(match[0]) : BigInt(match[0]);
  };

  const value = parseValue(0);
  skipWhitespace();
  if (pos !== text.length) fail('Extra data');
  return value;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument yields the same shortest digits Python's repr uses.
  const [mantissa = '', exponentText = '0'] = Math.abs(x).toExponential().split('e');
  const exponent = Number(exponentText);
  const digits = mantissa.replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${mant}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1) || '0';
  return `${sign}${intPart}.${fraction}`;
}

/** A JSON string literal the way Python writes it with `ensure_ascii=True` (lowercase \u escapes). */
export function pythonJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    switch (code) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x08: out += '\\b'; break;
      case 0x0c: out += '\\f'; break;
      default:
        out += code < 0x20 || code > 0x7e ? `\\u${code.toString(16).padStart(4, '0')}` : s[i];
    }
  }
  return `${out}"`;
}

/**
 * Serialises like Flask 1.0 `jsonify` with JSONIFY_PRETTYPRINT_REGULAR (which httpbin sets):
 * indent 2, separators `(', ', ': ')` — hence the trailing space after every comma at a line
 * end — keys sorted, ASCII only, and a final newline.
 */
export function flaskJsonify(value: PyValue): string {
  return `${dump(value, '')}\n`;
}

function dump(value: PyValue, indent: string): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return pythonFloatRepr(value);
  if (typeof value === 'string') return pythonJsonString(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => inner + dump(item, inner));
    return `[\n${items.join(', \n')}\n${indent}]`;
  }
  const keys = Object.keys(value).sort(compareCodePoints);
  if (keys.length === 0) return '{}';
  const items = keys.map((key) => `${inner}${pythonJsonString(key)}: ${dump(value[key] ?? null, inner)}`);
  return `{\n${items.join(', \n')}\n${indent}}`;
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
