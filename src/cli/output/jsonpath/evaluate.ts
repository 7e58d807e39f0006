/** Executes a parsed JSONPath template against plain JSON data, with kubectl's printing rules. */
import { JsonPathError, type Expression, type Literal, type Operand, type Segment, type Step } from './ast.js';

export interface EvalOptions {
  /** When false (a single object), a missing field is an error, as in kubectl. */
  allowMissingKeys: boolean;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return isObject(v) ? 'map[string]interface {}' : typeof v;
}

function evalField(input: unknown[], name: string, opts: EvalOptions): unknown[] {
  // kubectl: no input, no output (and no "not found" error)
  if (input.length === 0) return [];
  const out: unknown[] = [];
  for (const v of input) {
    if (isObject(v) && Object.prototype.hasOwnProperty.call(v, name)) out.push(v[name]);
  }
  if (out.length === 0 && !opts.allowMissingKeys) throw new JsonPathError(`${name} is not found`);
  return out;
}

/** Pre-order walk that keeps only containers with children, exactly like kubectl's `..`. */
function evalRecursive(input: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of input) {
    const children = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
    if (children.length === 0) continue;
    out.push(v, ...evalRecursive(children));
  }
  return out;
}

function evalSlice(input: unknown[], step: Extract<Step, { type: 'slice' }>): unknown[] {
  const out: unknown[] = [];
  for (const v of input) {
    if (v === null || v === undefined) continue;
    if (!Array.isArray(v)) throw new JsonPathError(`${typeName(v)} is not array or slice`);
    const len = v.length;
    let start = step.start ?? 0;
    let end = step.end ?? len;
    if (start < 0) start += len;
    if (end < 0 || (end === 0 && step.derivedEnd)) end += len;
    if (end === start) continue; // zero elements requested: allowed even past the end
    if (start >= len || start < 0) throw new JsonPathError(`array index out of bounds: index ${start}, length ${len}`);
    if (end > len || end < 0) throw new JsonPathError(`array index out of bounds: index ${end - 1}, length ${len}`);
    if (start > end) throw new JsonPathError(`starting index ${start} is greater than ending index ${end}`);
    const stride = step.step ?? 1;
    if (stride <= 0) throw new JsonPathError(`step must be positive, got ${stride}`);
    for (let i = start; i < end; i += stride) out.push(v[i]);
  }
  return out;
}

function compare(left: unknown, op: string, right: unknown): boolean {
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  const bothNumbers = typeof left === 'number' && typeof right === 'number';
  const bothStrings = typeof left === 'string' && typeof right === 'string';
  if (!bothNumbers && !bothStrings) throw new JsonPathError(`incompatible types for comparison: ${typeName(left)} ${op} ${typeName(right)}`);
  const l = left as number | string;
  const r = right as number | string;
  switch (op) {
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    default:
      return l >= r;
  }
}

function operandValues(operand: Operand, element: unknown, root: unknown): unknown[] {
  if (operand.type === 'literal') return [operand.value];
  // inside a filter a missing key simply means "no match"
  return evalSteps(operand.steps, [element], root, { allowMissingKeys: true });
}

function evalFilter(input: unknown[], step: Extract<Step, { type: 'filter' }>, root: unknown): unknown[] {
  const out: unknown[] = [];
  for (const v of input) {
    if (v === null || v === undefined) continue;
    if (!Array.isArray(v)) throw new JsonPathError(`${typeName(v)} is not array or slice and cannot be filtered`);
    for (const element of v) {
      const lefts = operandValues(step.left, element, root);
      if (step.op === 'exists') {
        if (lefts.length > 0) out.push(element);
        continue;
      }
      if (lefts.length === 0) continue;
      if (lefts.length > 1) throw new JsonPathError('can only compare one element at a time');
      const rights = operandValues(step.right!, element, root);
      if (rights.length === 0) continue;
      if (rights.length > 1) throw new JsonPathError('can only compare one element at a time');
      if (compare(lefts[0], step.op, rights[0])) out.push(element);
    }
  }
  return out;
}

export function evalSteps(steps: readonly Step[], input: unknown[], root: unknown, opts: EvalOptions): unknown[] {
  let cur = input;
  for (const step of steps) {
    switch (step.type) {
      case 'root':
        cur = [root];
        break;
      case 'current':
        break;
      case 'field':
        cur = evalField(cur, step.name, opts);
        break;
      case 'union':
        cur = step.keys.flatMap((k) => evalField(cur, k, opts));
        break;
      case 'wildcard':
        cur = cur.flatMap((v) => (Array.isArray(v) ? v : isObject(v) ? Object.values(v) : []));
        break;
      case 'recursive':
        cur = evalRecursive(cur);
        break;
      case 'slice':
        cur = evalSlice(cur, step);
        break;
      case 'unionIndex':
        cur = step.indices.flatMap((i) => evalSlice(cur, { type: 'slice', start: i, end: i + 1, derivedEnd: true }));
        break;
      case 'filter':
        cur = evalFilter(cur, step, root);
        break;
    }
  }
  return cur;
}

/** Go's json.Marshal sorts map keys; kubectl prints nested objects that way. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
}

/** How kubectl prints one result: strings raw, scalars as text, objects and arrays as compact JSON. */
export function printValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return JSON.stringify(sortKeys(v));
  return String(v as Literal);
}

function evalExpression(expr: Expression, data: unknown, opts: EvalOptions): string {
  if (expr.type === 'literal') return printValue(expr.value);
  return evalSteps(expr.steps, [data], data, opts).map(printValue).join(' ');
}

/** Renders segments against `data` (inside a range, each element becomes `data`). */
export function renderSegments(segments: readonly Segment[], data: unknown, opts: EvalOptions): string {
  let out = '';
  for (const seg of segments) {
    if (seg.type === 'text') out += seg.text;
    else if (seg.type === 'action') out += seg.expressions.map((e) => evalExpression(e, data, opts)).join('');
    else {
      for (const item of evalSteps(seg.steps, [data], data, opts)) out += renderSegments(seg.body, item, opts);
    }
  }
  return out;
}
