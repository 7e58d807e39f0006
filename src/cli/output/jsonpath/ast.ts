/** The parsed form of a kubectl JSONPath template. */

export type Literal = string | number | boolean | null;

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Operand = { type: 'path'; steps: Step[] } | { type: 'literal'; value: Literal };

export type Step =
  | { type: 'root' }
  | { type: 'current' }
  | { type: 'field'; name: string }
  | { type: 'wildcard' }
  | { type: 'recursive' }
  /** `[n]` is a slice `n:n+1` whose end is derived, so `[-1]` selects the last element */
  | { type: 'slice'; start?: number; end?: number; step?: number; derivedEnd: boolean }
  | { type: 'union'; keys: string[] }
  | { type: 'unionIndex'; indices: number[] }
  | { type: 'filter'; left: Operand; op: CompareOp | 'exists'; right?: Operand };

/** One expression of an action; several separated by commas are printed one after another. */
export type Expression = { type: 'path'; steps: Step[] } | { type: 'literal'; value: Literal };

export type Segment =
  | { type: 'text'; text: string }
  | { type: 'action'; expressions: Expression[] }
  | { type: 'range'; steps: Step[]; body: Segment[] };

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}
