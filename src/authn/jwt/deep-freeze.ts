/** Deep-freezes parsed JSON so a verdict shared by many requests (token cache) cannot be altered by one. */

export function deepFreeze<T extends object>(value: T): T {
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) deepFreeze(v);
  }
  return Object.freeze(value);
}
