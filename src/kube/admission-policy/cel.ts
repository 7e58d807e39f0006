/**
 * CEL for ValidatingAdmissionPolicy (@marcbachmann/cel-js): the environment kube-apiserver gives
 * policy expressions — `object`, `oldObject`, `request`, `variables`, `namespaceObject` — with the
 * macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`), regex `matches`, the string
 * functions and optional types the library has, plus the Kubernetes extension functions policies use
 * most (`replace`, `find`, `findAll`, `isSorted`, `sum`, `min`, `max`, list `indexOf`/`lastIndexOf`).
 * `params` and `authorizer` are not declared: a policy using them is refused at creation.
 */
import { Environment, EvaluationError, ParseError, TypeError as CelTypeError } from '@marcbachmann/cel-js';

/** The variables a policy expression sees (all `dyn`: objects are untyped JSON here). */
export const POLICY_VARIABLES = ['object', 'oldObject', 'request', 'variables', 'namespaceObject'] as const;
/** Variables kube-apiserver declares that this server does not provide. */
export const UNSUPPORTED_VARIABLES = ['params', 'authorizer'] as const;

const sum = (l: unknown[]): unknown => {
  if (l.length === 0) return 0n;
  return l.reduce((a, b) => (a as number) + (b as number));
};
const cmp = (a: unknown, b: unknown): number => ((a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0);
const extreme = (sign: number) => (l: unknown[]): unknown => {
  if (l.length === 0) throw new Error(`${sign < 0 ? 'min' : 'max'}(list) argument must not be empty`);
  return l.reduce((a, b) => (cmp(b, a) === sign ? b : a));
};
const same = (a: unknown, b: unknown): boolean => a === b || (typeof a === 'bigint' && typeof b === 'number' ? Number(a) === b : typeof b === 'bigint' && typeof a === 'number' ? a === Number(b) : false);
const regex = (re: string): RegExp => {
  try {
    return new RegExp(re, 'u');
  } catch (e) {
    throw new Error(`invalid regular expression ${JSON.stringify(re)}: ${(e as Error).message}`);
  }
};

function policyEnvironment(): Environment {
  const env = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false });
  for (const v of POLICY_VARIABLES) env.registerVariable(v, 'dyn');
  env
    .registerFunction({ name: 'replace', receiverType: 'string', returnType: 'string', params: [{ name: 'old', type: 'string' }, { name: 'new', type: 'string' }], handler: (s: string, a: string, b: string) => s.split(a).join(b) })
    .registerFunction({
      name: 'replace', receiverType: 'string', returnType: 'string', params: [{ name: 'old', type: 'string' }, { name: 'new', type: 'string' }, { name: 'n', type: 'int' }],
      handler: (s: string, a: string, b: string, n: bigint) => {
        if (n < 0n) return s.split(a).join(b);
        const parts = s.split(a);
        const k = Number(n);
        return parts.slice(0, k + 1).join(b) + (parts.length > k + 1 ? a + parts.slice(k + 1).join(a) : '');
      },
    })
    .registerFunction({ name: 'find', receiverType: 'string', returnType: 'string', params: [{ name: 're', type: 'string' }], handler: (s: string, re: string) => regex(re).exec(s)?.[0] ?? '' })
    .registerFunction({ name: 'findAll', receiverType: 'string', returnType: 'list<string>', params: [{ name: 're', type: 'string' }], handler: (s: string, re: string) => [...s.matchAll(new RegExp(regex(re).source, 'gu'))].map((m) => m[0]) })
    .registerFunction({
      name: 'findAll', receiverType: 'string', returnType: 'list<string>', params: [{ name: 're', type: 'string' }, { name: 'n', type: 'int' }],
      handler: (s: string, re: string, n: bigint) => {
        const all = [...s.matchAll(new RegExp(regex(re).source, 'gu'))].map((m) => m[0]);
        return n < 0n ? all : all.slice(0, Number(n));
      },
    })
    .registerFunction({ name: 'isSorted', receiverType: 'list', returnType: 'bool', params: [], handler: (l: unknown[]) => l.every((x, i) => i === 0 || cmp(l[i - 1], x) <= 0) })
    .registerFunction({ name: 'sum', receiverType: 'list', returnType: 'dyn', params: [], handler: sum })
    .registerFunction({ name: 'min', receiverType: 'list', returnType: 'dyn', params: [], handler: extreme(-1) })
    .registerFunction({ name: 'max', receiverType: 'list', returnType: 'dyn', params: [], handler: extreme(1) })
    .registerFunction({ name: 'indexOf', receiverType: 'list', returnType: 'int', params: [{ name: 'x', type: 'dyn' }], handler: (l: unknown[], x: unknown) => BigInt(l.findIndex((y) => same(y, x))) })
    .registerFunction({ name: 'lastIndexOf', receiverType: 'list', returnType: 'int', params: [{ name: 'x', type: 'dyn' }], handler: (l: unknown[], x: unknown) => { for (let i = l.length - 1; i >= 0; i--) if (same(l[i], x)) return BigInt(i); return -1n; } });
  return env;
}

let shared: Environment | undefined;
const environment = (): Environment => (shared ??= policyEnvironment());

export interface Compiled {
  expression: string;
  evaluate(activation: Record<string, unknown>): unknown;
}

/** `<input>:LINE:COL` of an offset, as cel-go prints source positions (1-based line, 0-based column... kube prints cel-go's). */
function position(expression: string, offset: number | undefined): string {
  const at = Math.max(0, Math.min(offset ?? 0, expression.length));
  const before = expression.slice(0, at).split('\n');
  return `<input>:${before.length}:${before.at(-1)!.length}`;
}

function summaryOf(e: unknown): { summary: string; start?: number; code?: string } {
  if (e instanceof ParseError || e instanceof CelTypeError || e instanceof EvaluationError) {
    return { summary: e.summary, ...(e.range ? { start: e.range.start } : {}), ...(e.code ? { code: e.code } : {}) };
  }
  return { summary: (e as Error)?.message ?? String(e) };
}

/**
 * The expression compiled and type-checked, or why not in kube-apiserver's words (`compilation
 * failed: ERROR: <input>:1:11: …`). A use of `params` or `authorizer` is refused as unsupported.
 */
export function compile(expression: string): { compiled: Compiled } | { error: string; unsupported?: boolean } {
  const env = environment();
  let check: ReturnType<Environment['check']>;
  try {
    check = env.check(expression);
  } catch (e) {
    const s = summaryOf(e);
    return { error: `compilation failed: ERROR: ${position(expression, s.start)}: ${s.summary}` };
  }
  if (!check.valid) {
    const s = summaryOf(check.error);
    const unknown = /^Unknown variable: (\w+)/.exec(s.summary)?.[1];
    if (unknown && (UNSUPPORTED_VARIABLES as readonly string[]).includes(unknown)) {
      return { error: `${unknown} is not supported by this API server`, unsupported: true };
    }
    const what = s.code === 'unexpected_token' || check.error instanceof ParseError ? 'Syntax error: ' : '';
    return { error: `compilation failed: ERROR: ${position(expression, s.start)}: ${what}${s.summary}` };
  }
  const program = env.parse(expression);
  return {
    compiled: {
      expression,
      evaluate: (activation) => program(activation),
    },
  };
}

/** The message of an evaluation error, without the source highlight the library appends. */
export function evaluationMessage(e: unknown): string {
  return summaryOf(e).summary;
}

/**
 * JSON as CEL sees Kubernetes objects: integers are `int` (BigInt here), other numbers `double`;
 * maps and lists as they are.
 */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v);
    return out;
  }
  return value;
}
