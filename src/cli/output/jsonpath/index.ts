/** kubectl's JSONPath output (`-o jsonpath=...`): parse once, render against an object or a List. */
import { JsonPathError } from './ast.js';
import { renderSegments, type EvalOptions } from './evaluate.js';
import { parseTemplate } from './parse.js';

export { JsonPathError } from './ast.js';
export { parseTemplate } from './parse.js';

/**
 * Renders `template` against `data`. Parse and execution errors are reported with kubectl's
 * wording (`error parsing jsonpath ...`, `error executing jsonpath "...": ... is not found`).
 */
export function renderJsonPath(template: string, data: unknown, opts: EvalOptions): string {
  let segments;
  try {
    segments = parseTemplate(template);
  } catch (e) {
    if (e instanceof JsonPathError) throw new JsonPathError(`error parsing jsonpath ${template}, ${e.message}`);
    throw e;
  }
  try {
    return renderSegments(segments, data, opts);
  } catch (e) {
    if (e instanceof JsonPathError) {
      throw new JsonPathError(`error executing jsonpath ${JSON.stringify(template)}: Error executing template: ${e.message}`);
    }
    throw e;
  }
}
