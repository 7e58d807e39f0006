/**
 * `import()` cannot be turned off in a `node:vm` script without --experimental-vm-modules: Node
 * rejects it with a TypeError of the host realm, and a script holding a host error holds the host's
 * `Function`. So scripts that use it are refused when they compile. The test is exact, with V8 as
 * the parser: every `import` in the source becomes `export` (letters for letters, so no token
 * changes its extent) and the result must still compile. `export` is legal in a script only where
 * any name is (after a dot, as a property name, inside strings, comments and regular expressions),
 * so it fails exactly where `import` was the keyword — an `import(...)` call.
 */
import { Script } from 'node:vm';

/** The compile error of the `import`→`export` variant, or undefined when no `import` keyword is used. */
export function importKeywordError(wrapped: string, filename: string, lineOffset: number): unknown {
  if (!wrapped.includes('import')) return undefined;
  try {
    new Script(wrapped.replaceAll('import', 'export'), { filename, lineOffset });
    return undefined;
  } catch (err) {
    return err;
  }
}
