/** Turns any failure into the lines the CLI prints on stderr: `error: <message>` and the field problems. */
import { formatProblem, isMeshError } from '../lib/errors.js';

export function formatError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  let out = `error: ${message.replace(/\n+$/, '')}\n`;
  if (isMeshError(e)) {
    for (const p of e.problems) {
      const line = formatProblem(p);
      // a single-problem error often repeats its problem as the message
      if (line !== message) out += line + '\n';
    }
  }
  return out;
}

/** A mistake in how the command was invoked (reported like any error, exit status 1). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
