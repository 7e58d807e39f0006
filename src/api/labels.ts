/** Label selector evaluation (metav1.LabelSelector semantics). Pure. */
import type { LabelSelector } from './types.js';

/**
 * True when `labels` satisfy `selector`. An absent selector matches everything; an empty one
 * (`{}`) matches everything too, as in Kubernetes.
 */
export function selectorMatches(selector: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, req.key);
    const value = l[req.key];
    switch (req.operator) {
      case 'In':
        if (!has || !(req.values ?? []).includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && (req.values ?? []).includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Equality-map selector, as in Service.spec.selector. An empty or absent map selects nothing. */
export function mapSelectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (l[k] !== v) return false;
  return true;
}

/**
 * Parses a kubectl `-l` selector string: `app=curl`, `app!=x`, `app in (a,b)`, `app notin (a)`,
 * `app`, `!app`, comma separated. Throws on malformed input.
 */
export function parseSelectorString(input: string): LabelSelector {
  const sel: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) continue;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = m[3]!.split(',').map((s) => s.trim()).filter(Boolean);
      sel.matchExpressions.push({ key: m[1]!, operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = p.match(/^([\w./-]+)\s*!=\s*([\w./-]*)$/))) {
      sel.matchExpressions.push({ key: m[1]!, operator: 'NotIn', values: [m[2]!] });
    } else if ((m = p.match(/^([\w./-]+)\s*==?\s*([\w./-]*)$/))) {
      sel.matchLabels[m[1]!] = m[2]!;
    } else if ((m = p.match(/^!([\w./-]+)$/))) {
      sel.matchExpressions.push({ key: m[1]!, operator: 'DoesNotExist' });
    } else if ((m = p.match(/^([\w./-]+)$/))) {
      sel.matchExpressions.push({ key: m[1]!, operator: 'Exists' });
    } else {
      throw new Error(`unable to parse requirement: "${p}"`);
    }
  }
  return sel;
}
