/** Reusable zod field schemas with our wording: optional-or-null, ranges, names, maps, selectors, durations. */
import { z } from 'zod';
import { EXPECTED_INTEGER, describeValue } from './problems.js';
import { parseGoDuration } from './duration.js';
import { checkConfigKey, checkDnsName, checkLabelValue, checkPortName, checkQualifiedName, type NameRule } from './names.js';

/** Kubernetes treats `field: null` (and a bare `field:` in YAML) as an absent field. */
const nullToUndefined = (v: unknown): unknown => (v === null ? undefined : v);

export function optional<T extends z.ZodTypeAny>(schema: T) {
  return z.preprocess(nullToUndefined, schema.optional());
}

export function withDefault<T extends z.ZodTypeAny>(schema: T, value: z.input<T>) {
  return z.preprocess(nullToUndefined, schema.default(value as never));
}

/** Core kinds keep fields we do not model; mesh kinds reject them so typos surface. */
export type Strictness = 'strict' | 'tolerant';

export function objectOf<S extends z.ZodRawShape>(shape: S, strictness: Strictness) {
  const o = z.object(shape);
  return strictness === 'strict' ? o.strict() : o.passthrough();
}

/** An integer whose type errors say "expected integer" rather than zod's "expected number". */
export function integer() {
  return z.number({ invalid_type_error: EXPECTED_INTEGER }).int();
}

export function numberInRange(min: number, max: number, opts: { integer?: boolean } = {}) {
  const base = opts.integer === false ? z.number() : integer();
  return base.superRefine((v, ctx) => {
    if (v < min || v > max) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${v} is out of range ${min}-${max}` });
  });
}

export const port = numberInRange(1, 65535);

export const nonNegativeInt = integer().superRefine((v, ctx) => {
  if (v < 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${v} must be greater than or equal to 0` });
});

/** A required string that must not be empty (YAML `name: ""` is as good as missing). */
export const requiredString = z.string().superRefine((v, ctx) => {
  if (v.trim() === '') ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'required field is missing' });
});

export function dnsName(rule: NameRule) {
  return z.string().superRefine((v, ctx) => {
    const problem = v === '' ? 'required field is missing' : checkDnsName(v, rule);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });
}

export const portName = z.string().superRefine((v, ctx) => {
  const problem = checkPortName(v);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

export const stringMap = z.record(z.string(), z.string());

/** A string map whose keys (and optionally values) follow a syntax rule; problems point at the key. */
function checkedMap(checkKey: (k: string) => string | undefined, checkValue?: (v: string) => string | undefined) {
  return z.record(z.string(), z.string()).superRefine((map, ctx) => {
    for (const [k, v] of Object.entries(map)) {
      const problem = checkKey(k) ?? checkValue?.(v);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem, path: [k] });
    }
  });
}

export const labelsMap = checkedMap(checkQualifiedName, checkLabelValue);
export const annotationsMap = checkedMap(checkQualifiedName);
export const configDataMap = checkedMap(checkConfigKey);
export const base64DataMap = checkedMap(checkConfigKey, (v) =>
  isBase64(v) ? undefined : 'value is not valid base64 (put plain text under stringData instead)',
);

/** Standard base64 as Go's decoder accepts it: padding required, line breaks ignored. */
export function isBase64(value: string): boolean {
  const compact = value.replace(/[\r\n]/g, '');
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}

/** A port given as a number or as the name of a container port (Service targetPort, probes). */
export const intOrPortName = z.unknown().superRefine((v, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) fail(`expected integer, got ${describeValue(v)}`);
    else if (v < 1 || v > 65535) fail(`${v} is out of range 1-65535`);
  } else if (typeof v === 'string') {
    const problem = checkPortName(v);
    if (problem) fail(problem);
  } else {
    fail(`expected integer or string, got ${describeValue(v)}`);
  }
});

/** A Go duration string (`24h`, `1h30m`, `90s`). */
export function goDuration(opts: { positive?: boolean } = {}) {
  return z.string().superRefine((v, ctx) => {
    const ms = parseGoDuration(v);
    if (ms === undefined) {
      const message = `${JSON.stringify(v)} is not a valid duration (use a Go duration like 24h, 1h30m or 90s)`;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    } else if (opts.positive && ms <= 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} must be a positive duration` });
    }
  });
}

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** metav1.LabelSelector, with Kubernetes' rules on when `values` may appear. */
export function labelSelector(strictness: Strictness) {
  const labelValue = z.string().superRefine((v, ctx) => {
    const problem = checkLabelValue(v);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });
  const key = z.string().superRefine((v, ctx) => {
    const problem = checkQualifiedName(v);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });
  const requirement = objectOf({ key, operator: z.enum(SELECTOR_OPERATORS), values: optional(z.array(labelValue)) }, strictness).superRefine(
    (req, ctx) => {
      const needsValues = req.operator === 'In' || req.operator === 'NotIn';
      const count = req.values?.length ?? 0;
      if (needsValues && count === 0) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['values'], message: `must be non-empty when operator is ${req.operator}` });
      } else if (!needsValues && req.values !== undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['values'], message: `must not be set when operator is ${req.operator}` });
      }
    },
  );
  return objectOf({ matchLabels: optional(labelsMap), matchExpressions: optional(z.array(requirement)) }, strictness);
}
