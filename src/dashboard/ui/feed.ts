/** The decisions feed's pure parts: merging pushed refusals with the state's list, and the text filter. */
import type { Decision } from '../model.js';

/** One list, newest first, each refusal once: a pushed one is also in the next state's recent list. */
export function mergeDecisions(pushed: Decision[], recent: Decision[]): Decision[] {
  const seen = new Set<string>();
  const all: Decision[] = [];
  for (const d of [...pushed, ...recent]) {
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    all.push(d);
  }
  return all.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
}

/** Every word of `text` (case-insensitive) appears in one of the refusal's fields. */
export function matchesText(d: Decision, text: string): boolean {
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = [d.namespace, d.workload, d.pod, d.kind, d.policy, d.rule, d.reason, d.principal, d.method, d.path, d.authority, d.status]
    .filter((v) => v !== undefined)
    .join(' ')
    .toLowerCase();
  return words.every((w) => hay.includes(w));
}
