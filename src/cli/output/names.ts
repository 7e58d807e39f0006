/** How kubectl names a kind in its output: `pod`, `deployment.apps`, `plugin.plugin.flomesh.io`. */
import { kindInfo } from '../../api/kinds.js';
import type { Resource } from '../../api/types.js';

function groupOf(apiVersion: string | undefined): string {
  if (!apiVersion) return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** `singular.group` (`deployment.apps`), or just `singular` for the core group (`pod`). */
export function qualifiedKind(kind: string, apiVersion?: string): string {
  const info = kindInfo(kind);
  const singular = info?.singular ?? kind.toLowerCase();
  const group = groupOf(info?.apiVersion ?? apiVersion);
  return group ? `${singular}.${group}` : singular;
}

/** `-o name` form: `pod/curl-7d8f9-abcde`, `deployment.apps/httpbin`. */
export function objectName(obj: Pick<Resource, 'kind' | 'apiVersion' | 'metadata'>): string {
  return `${qualifiedKind(obj.kind, obj.apiVersion)}/${obj.metadata.name}`;
}

/** The plural resource name kubectl uses in wait errors (`pods/NAME`). */
export function pluralKind(kind: string): string {
  return kindInfo(kind)?.plural ?? `${kind.toLowerCase()}s`;
}
