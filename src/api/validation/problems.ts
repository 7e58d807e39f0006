/** Turns zod issues into our `FieldProblem`s with kubectl-style field paths and precise messages. */
import type { z } from 'zod';
import type { FieldProblem } from '../../lib/errors.js';

type PathSegment = string | number;

/** Message integer schemas give their type errors (fields.ts), since zod names the type "number". */
export const EXPECTED_INTEGER = 'expected integer';

/** A key that reads fine after a dot; others (label keys with `/` or `.`) go in brackets. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['spec', 'chains', 0, 'name']` → `spec.chains[0].name`. */
export function formatFieldPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${seg}]`;
  }
  return out;
}

/** How a wrong value is named in a message: `string "x"`, `number 1.5`, `array`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string': {
      const shown = v.length > 40 ? `${v.slice(0, 40)}…` : v;
      return `string ${JSON.stringify(shown)}`;
    }
    case 'number':
    case 'boolean':
      return `${typeof v} ${String(v)}`;
    case 'undefined':
      return 'nothing';
    default:
      return typeof v;
  }
}

export function problemsFromIssues(issues: readonly z.ZodIssue[], input: unknown, resource: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ resource, field: formatFieldPath([...issue.path, key]), message: `unknown field "${key}"` });
    } else {
      out.push({ resource, field: formatFieldPath(issue.path), message: messageFor(issue, valueAt(input, issue.path)) });
    }
  }
  return dedupe(out);
}

function messageFor(issue: z.ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined || value === null) return 'required field is missing';
      if (issue.message === EXPECTED_INTEGER) return `expected integer, got ${describeValue(value)}`;
      return `expected ${expectedName(issue.expected)}, got ${describeValue(value)}`;
    case 'invalid_enum_value':
      return `${JSON.stringify(String(issue.received))} is not one of ${issue.options.join(', ')}`;
    case 'too_small':
      if (issue.type === 'array') return Number(issue.minimum) === 1 ? 'must not be empty' : `must have at least ${issue.minimum} items`;
      if (issue.type === 'string') return Number(issue.minimum) === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      return `${String(value)} must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.type === 'array') return `must have at most ${issue.maximum} items`;
      if (issue.type === 'string') return `must be at most ${issue.maximum} characters`;
      return `${String(value)} must be at most ${issue.maximum}`;
    default:
      return issue.message;
  }
}

/** zod names an enum's expected type `'a' | 'b'`; we say `one of a, b`. */
function expectedName(expected: string): string {
  return expected.includes(' | ') ? `one of ${expected.replace(/'/g, '').split(' | ').join(', ')}` : expected;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.field}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
