/** Test-only helpers shared by the patch tests. */

/** Freezes a JSON value all the way down, so any mutation of a test input throws in strict mode. */
export function frozen<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) frozen(child);
    Object.freeze(v);
  }
  return v;
}
