/** Parses kubectl's JSONPath dialect: literal text plus `{...}` actions, `range`/`end`, filters, slices. */
import { JsonPathError, type CompareOp, type Expression, type Literal, type Operand, type Segment, type Step } from './ast.js';

/** Characters that end an unescaped field name. */
const FIELD_END = new Set([...'.[](){},=!<>"\'', ' ', '\t', '\n']);

/** Splits a template into text and raw action bodies, honouring quotes inside actions. */
function splitActions(template: string): { type: 'text' | 'action'; text: string }[] {
  const parts: { type: 'text' | 'action'; text: string }[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      parts.push({ type: 'text', text: template.slice(i) });
      break;
    }
    if (open > i) parts.push({ type: 'text', text: template.slice(i, open) });
    let j = open + 1;
    let quote: string | undefined;
    for (; j < template.length; j++) {
      const ch = template[j]!;
      if (quote) {
        if (ch === '\\') j++;
        else if (ch === quote) quote = undefined;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '\\') j++;
      else if (ch === '}') break;
    }
    if (j >= template.length) throw new JsonPathError('unclosed action');
    parts.push({ type: 'action', text: template.slice(open + 1, j) });
    i = j + 1;
  }
  return parts;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0' };

class Cursor {
  pos = 0;
  constructor(readonly src: string) {}
  get done(): boolean {
    return this.pos >= this.src.length;
  }
  peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }
  skipSpace(): void {
    while (!this.done && /\s/.test(this.peek())) this.pos++;
  }
  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }
  fail(message: string): never {
    throw new JsonPathError(`${message} at position ${this.pos} of "${this.src}"`);
  }
}

function parseQuoted(c: Cursor): string {
  const quote = c.peek();
  c.pos++;
  let out = '';
  while (!c.done && c.peek() !== quote) {
    let ch = c.peek();
    if (ch === '\\') {
      c.pos++;
      const esc = c.peek();
      if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(c.src.slice(c.pos + 1, c.pos + 5))) {
        ch = String.fromCharCode(parseInt(c.src.slice(c.pos + 1, c.pos + 5), 16));
        c.pos += 4;
      } else ch = ESCAPES[esc] ?? esc;
    }
    out += ch;
    c.pos++;
  }
  if (c.done) c.fail('unterminated quoted string');
  c.pos++;
  return out;
}

function parseNumber(c: Cursor): number | undefined {
  const m = /^-?\d+(\.\d+)?/.exec(c.src.slice(c.pos));
  if (!m) return undefined;
  c.pos += m[0].length;
  return Number(m[0]);
}

function parseFieldName(c: Cursor): string {
  let name = '';
  while (!c.done && !FIELD_END.has(c.peek())) {
    if (c.peek() === '\\') c.pos++; // `ca\.crt`: the escaped character is part of the name
    name += c.peek();
    c.pos++;
  }
  return name;
}

function parseBracket(c: Cursor): Step {
  c.pos++; // [
  c.skipSpace();
  let step: Step;
  if (c.peek() === '*') {
    c.pos++;
    step = { type: 'wildcard' };
  } else if (c.peek() === '?') {
    c.pos++;
    c.skipSpace();
    if (c.peek() !== '(') c.fail('expected ( after ?');
    c.pos++;
    step = parseFilter(c);
    c.skipSpace();
    if (c.peek() !== ')') c.fail('expected ) to close the filter');
    c.pos++;
  } else if (c.peek() === '"' || c.peek() === "'") {
    const keys = [parseQuoted(c)];
    for (c.skipSpace(); c.peek() === ','; c.skipSpace()) {
      c.pos++;
      c.skipSpace();
      keys.push(parseQuoted(c));
    }
    step = keys.length === 1 ? { type: 'field', name: keys[0]! } : { type: 'union', keys };
  } else {
    step = parseIndexOrSlice(c);
  }
  c.skipSpace();
  if (c.peek() !== ']') c.fail('expected ]');
  c.pos++;
  return step;
}

function parseIndexOrSlice(c: Cursor): Step {
  const parts: (number | undefined)[] = [];
  let colons = 0;
  let commas = 0;
  for (;;) {
    c.skipSpace();
    parts.push(parseNumber(c));
    c.skipSpace();
    if (c.peek() === ':') colons++;
    else if (c.peek() === ',') commas++;
    else break;
    c.pos++;
  }
  if (commas > 0) {
    if (colons > 0 || parts.some((p) => p === undefined)) c.fail('invalid array union');
    return { type: 'unionIndex', indices: parts as number[] };
  }
  if (colons === 0) {
    if (parts[0] === undefined) c.fail('invalid array index');
    return { type: 'slice', start: parts[0], end: parts[0]! + 1, derivedEnd: true };
  }
  if (colons > 2) c.fail('invalid array slice');
  return { type: 'slice', start: parts[0], end: parts[1], step: parts[2], derivedEnd: false };
}

const OPS: CompareOp[] = ['==', '!=', '<=', '>=', '<', '>'];

function parseOperand(c: Cursor): Operand {
  c.skipSpace();
  const ch = c.peek();
  if (ch === '"' || ch === "'") return { type: 'literal', value: parseQuoted(c) };
  const n = parseNumber(c);
  if (n !== undefined) return { type: 'literal', value: n };
  for (const [word, value] of [['true', true], ['false', false], ['null', null]] as [string, Literal][]) {
    if (c.startsWith(word) && !/[\w.]/.test(c.peek(word.length))) {
      c.pos += word.length;
      return { type: 'literal', value };
    }
  }
  return { type: 'path', steps: parsePath(c) };
}

function parseFilter(c: Cursor): Step {
  const left = parseOperand(c);
  c.skipSpace();
  const op = OPS.find((o) => c.startsWith(o));
  if (!op) return { type: 'filter', left, op: 'exists' };
  c.pos += op.length;
  return { type: 'filter', left, op, right: parseOperand(c) };
}

/** Parses steps until a character that cannot continue a path (space, comma, operator, `)`). */
function parsePath(c: Cursor): Step[] {
  const steps: Step[] = [];
  while (!c.done) {
    const ch = c.peek();
    if (ch === '$') {
      steps.push({ type: 'root' });
      c.pos++;
    } else if (ch === '@') {
      steps.push({ type: 'current' });
      c.pos++;
    } else if (c.startsWith('..')) {
      c.pos += 2;
      steps.push({ type: 'recursive' });
      if (c.peek() === '*') {
        c.pos++;
        steps.push({ type: 'wildcard' });
      } else if (c.peek() !== '[') {
        const name = parseFieldName(c);
        if (name) steps.push({ type: 'field', name });
      }
    } else if (ch === '.') {
      c.pos++;
      if (c.peek() === '*') {
        c.pos++;
        steps.push({ type: 'wildcard' });
      } else {
        const name = parseFieldName(c);
        if (name) steps.push({ type: 'field', name });
      }
    } else if (ch === '[') {
      steps.push(parseBracket(c));
    } else if (steps.length === 0 && !FIELD_END.has(ch)) {
      // kubectl-style leniency: `{metadata.name}` reads as `{.metadata.name}`
      steps.push({ type: 'field', name: parseFieldName(c) });
    } else break;
  }
  return steps;
}

function parseExpressions(body: string): Expression[] {
  const c = new Cursor(body);
  const expressions: Expression[] = [];
  for (;;) {
    c.skipSpace();
    if (c.done) break;
    const ch = c.peek();
    if (ch === '"' || ch === "'") expressions.push({ type: 'literal', value: parseQuoted(c) });
    else {
      const start = c.pos;
      const n = /^-?\d/.test(c.src.slice(c.pos)) ? parseNumber(c) : undefined;
      if (n !== undefined) expressions.push({ type: 'literal', value: n });
      else {
        const steps = parsePath(c);
        if (c.pos === start) c.fail(`unrecognized character "${ch}"`);
        expressions.push({ type: 'path', steps });
      }
    }
    c.skipSpace();
    if (c.done) break;
    if (c.peek() !== ',') c.fail(`unexpected "${c.peek()}"`);
    c.pos++;
  }
  return expressions;
}

/** Parses a whole template into segments, nesting `range ... end` bodies. */
export function parseTemplate(template: string): Segment[] {
  const root: Segment[] = [];
  const stack: Segment[][] = [root];
  for (const part of splitActions(template)) {
    const current = stack[stack.length - 1]!;
    if (part.type === 'text') {
      current.push({ type: 'text', text: part.text });
      continue;
    }
    const body = part.text.trim();
    if (body === 'end') {
      if (stack.length === 1) throw new JsonPathError('not in range, nothing to end');
      stack.pop();
    } else if (/^range\s/.test(body)) {
      const c = new Cursor(body.slice('range'.length).trim());
      const steps = parsePath(c);
      c.skipSpace();
      if (!c.done) c.fail(`unexpected "${c.peek()}" in range`);
      const range: Segment = { type: 'range', steps, body: [] };
      current.push(range);
      stack.push(range.body);
    } else {
      current.push({ type: 'action', expressions: parseExpressions(body) });
    }
  }
  if (stack.length > 1) throw new JsonPathError('unclosed range: missing {end}');
  return root;
}
