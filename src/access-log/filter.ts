/**
 * Access-log filter expressions, as Istio's Telemetry `accessLogging[].filter.expression` writes
 * them: CEL over Envoy's attribute names (`response.code >= 400`, `request.headers['x-debug'] ==
 * "1"`, `connection.mtls`). The same compiler checks an expression when a Telemetry is applied and
 * runs it in the sidecar, so what applies is what runs.
 *
 * Attributes (each a map; a missing one makes the expression an error, and an error does not log
 * the line, as Envoy's CEL filter does — refusals are logged whatever the filter says):
 * - request: method, path, url_path, query, host, scheme, protocol, useragent, headers (lower-case
 *   names), duration_ms; HTTP only.
 * - response: code (int), headers; HTTP only.
 * - source: address, port, principal (the caller's mesh identity, "" when none).
 * - destination: address, port, service.
 * - connection: mtls (bool), protocol ("http" or "tcp").
 */
import { Environment, EvaluationError, ParseError, TypeError as CelTypeError } from '@marcbachmann/cel-js';

export const FILTER_ATTRIBUTES = ['request', 'response', 'source', 'destination', 'connection'] as const;

export interface AccessAttributes {
  request?: Record<string, unknown>;
  response?: Record<string, unknown>;
  source: Record<string, unknown>;
  destination: Record<string, unknown>;
  connection: Record<string, unknown>;
}

export interface CompiledFilter {
  readonly expression: string;
  /** true when the line is to be written; an evaluation error or a non-bool result is false */
  matches(attributes: AccessAttributes): boolean;
}

let shared: Environment | undefined;
function environment(): Environment {
  if (shared) return shared;
  const env = new Environment({ homogeneousAggregateLiterals: false });
  for (const v of FILTER_ATTRIBUTES) env.registerVariable(v, 'map<string, dyn>');
  return (shared = env);
}

function summaryOf(e: unknown): string {
  if (e instanceof ParseError || e instanceof CelTypeError || e instanceof EvaluationError) return e.summary;
  return (e as Error)?.message ?? String(e);
}

/** The expression compiled and type-checked, or why not (`unknown variable respnse`). */
export function compileFilter(expression: string): { filter: CompiledFilter } | { error: string } {
  const env = environment();
  let check: ReturnType<Environment['check']>;
  try {
    check = env.check(expression);
  } catch (e) {
    return { error: summaryOf(e) };
  }
  if (!check.valid) return { error: summaryOf(check.error) };
  if (check.type !== 'bool' && check.type !== 'dyn') return { error: `the expression is of type ${check.type}; a filter must be a bool` };
  const program = env.parse(expression);
  return {
    filter: {
      expression,
      matches: (attributes) => {
        try {
          return program(attributes as unknown as Record<string, unknown>) === true;
        } catch {
          return false;
        }
      },
    },
  };
}
