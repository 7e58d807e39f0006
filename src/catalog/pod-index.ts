/** Finds the pods a Service's equality selector matches without scanning every pod for every Service. */
import type { Pod } from '../api/types.js';
import { mapSelectorMatches } from '../api/labels.js';
import { byString, podKey, podNamespace } from './pods.js';

/**
 * Pods indexed by namespace and by each `key=value` label. A selector is answered from the smallest
 * candidate list among its pairs, then checked in full, so building endpoints for S services over P
 * pods costs about the sum of the matched sets rather than S × P.
 */
export class PodIndex {
  private readonly byLabel = new Map<string, Pod[]>();

  constructor(pods: Iterable<Pod>) {
    const sorted = [...pods].sort((a, b) => byString(podKey(a), podKey(b)));
    for (const pod of sorted) {
      const ns = podNamespace(pod);
      for (const [k, v] of Object.entries(pod.metadata.labels ?? {})) {
        const key = labelKey(ns, k, v);
        let list = this.byLabel.get(key);
        if (!list) this.byLabel.set(key, (list = []));
        list.push(pod);
      }
    }
  }

  /** Pods in `namespace` matched by an equality selector, sorted by name. Empty selectors select nothing. */
  select(namespace: string, selector: Record<string, string> | undefined): Pod[] {
    if (!selector) return [];
    let smallest: Pod[] | undefined;
    for (const [k, v] of Object.entries(selector)) {
      const list = this.byLabel.get(labelKey(namespace, k, v)) ?? [];
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    if (!smallest) return [];
    return smallest.filter((p) => mapSelectorMatches(selector, p.metadata.labels));
  }
}

function labelKey(namespace: string, key: string, value: string): string {
  // NUL cannot appear in a namespace, label key or label value, so keys never collide.
  return `${namespace}\u0000${key}\u0000${value}`;
}
