/** Istio string matching: exact, prefix `abc*`, suffix `*abc`, presence `*` (security-rules.md §1 "String matching"). */

export type StringPredicate = (value: string | undefined) => boolean;

/**
 * One predicate for a list of patterns (ORed). Prefix matching is a plain string prefix, not
 * segment-aware (`/info*` matches `/information`), as in Istio. `*` matches any non-empty value;
 * an absent value never matches. `ignoreCase` is for hosts (CVE-2021-39155).
 */
export function compileStringMatch(patterns: readonly string[], ignoreCase = false): StringPredicate {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  let presence = false;
  for (const raw of patterns) {
    const p = ignoreCase ? raw.toLowerCase() : raw;
    if (p === '*') presence = true;
    else if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else if (p.startsWith('*')) suffixes.push(p.slice(1));
    else exact.add(p);
  }
  return (value) => {
    if (value === undefined || value === '') return false;
    if (presence) return true;
    const v = ignoreCase ? value.toLowerCase() : value;
    if (exact.has(v)) return true;
    for (const p of prefixes) if (v.startsWith(p)) return true;
    for (const s of suffixes) if (v.endsWith(s)) return true;
    return false;
  };
}
