/**
 * Whether a webhook is called for a request, by kube-apiserver's rules: its rules (operation, API
 * group, version, resource and subresource with `*` wildcards, scope), its namespaceSelector (against
 * the labels of the request's namespace; for a cluster-scoped resource it is ignored, except that a
 * Namespace is matched by its own labels) and its objectSelector (the new or the old object's labels;
 * an absent object never matches a non-empty selector). matchPolicy Equivalent also matches the same
 * resource at another served version; the webhook is then sent the object at that version.
 */
import { selectorMatches } from '../../api/labels.js';
import type { LabelSelector, Resource } from '../../api/types.js';
import type { ResourceType } from '../registry/index.js';
import type { RuleWithOperations, Webhook } from './types.js';

export interface MatchRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  type: ResourceType;
  /** the version the request named */
  version: string;
  subresource?: string;
  object?: Resource;
  oldObject?: Resource;
  /** labels of the request's namespace (namespaced resources) */
  namespaceLabels?: Record<string, string>;
}

const wild = (list: string[] | undefined, value: string): boolean => (list ?? []).some((x) => x === '*' || x === value);

function resourceMatches(resources: string[] | undefined, resource: string, subresource: string | undefined): boolean {
  const wanted = subresource ? `${resource}/${subresource}` : resource;
  for (const r of resources ?? []) {
    if (r === '*/*' || r === wanted) return true;
    const slash = r.indexOf('/');
    if (slash < 0) {
      if (r === '*' && !subresource) return true;
      continue;
    }
    const res = r.slice(0, slash);
    const sub = r.slice(slash + 1);
    if (!subresource) continue;
    if ((res === '*' || res === resource) && (sub === '*' || sub === subresource)) return true;
  }
  return false;
}

function ruleMatches(rule: RuleWithOperations, req: MatchRequest, version: string): boolean {
  if (!wild(rule.operations, req.operation)) return false;
  if (!wild(rule.apiGroups, req.type.group)) return false;
  if (!wild(rule.apiVersions, version)) return false;
  if (!resourceMatches(rule.resources, req.type.plural, req.subresource)) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && req.type.namespaced) return false;
  if (scope === 'Namespaced' && !req.type.namespaced) return false;
  return true;
}

/**
 * The version the webhook is called with, or undefined when its rules do not match: the request's
 * own version first, then (matchPolicy Equivalent) another served version of the same resource.
 */
export function matchedVersion(hook: Webhook, req: MatchRequest): string | undefined {
  const rules = hook.rules ?? [];
  if (rules.some((r) => ruleMatches(r, req, req.version))) return req.version;
  if ((hook.matchPolicy ?? 'Equivalent') !== 'Equivalent') return undefined;
  for (const v of req.type.versions) {
    if (v.name !== req.version && rules.some((r) => ruleMatches(r, req, v.name))) return v.name;
  }
  return undefined;
}

const isEmpty = (s: LabelSelector | undefined): boolean =>
  !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);

export function namespaceSelectorMatches(hook: Webhook, req: MatchRequest): boolean {
  if (isEmpty(hook.namespaceSelector)) return true;
  const isNamespace = req.type.group === '' && req.type.kind === 'Namespace';
  if (isNamespace) {
    // a Namespace is selected by its own labels (the old object's on DELETE)
    const labels = (req.object ?? req.oldObject)?.metadata.labels;
    return selectorMatches(hook.namespaceSelector, labels);
  }
  if (!req.type.namespaced) return true;
  return selectorMatches(hook.namespaceSelector, req.namespaceLabels ?? {});
}

export function objectSelectorMatches(hook: Webhook, req: MatchRequest): boolean {
  if (isEmpty(hook.objectSelector)) return true;
  return [req.object, req.oldObject].some((o) => o !== undefined && selectorMatches(hook.objectSelector, o.metadata.labels ?? {}));
}

/** The version to call `hook` with for `req`, or undefined when it is not called. */
export function webhookMatches(hook: Webhook, req: MatchRequest): string | undefined {
  const version = matchedVersion(hook, req);
  if (version === undefined) return undefined;
  if (!namespaceSelectorMatches(hook, req) || !objectSelectorMatches(hook, req)) return undefined;
  return version;
}
