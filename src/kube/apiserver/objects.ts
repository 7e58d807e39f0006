/** Object helpers: versions as the client asked for them, keys, generated names, lists. */
import { randomInt } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import { apiVersionOf, storageApiVersion, type ResourceType } from '../registry/index.js';
import type { ObjectKey } from './backend.js';

/** The object as served at `version` (all served versions of a type share one schema here). */
export function atVersion<T extends Resource>(obj: T, type: ResourceType, version: string): T {
  return { ...obj, apiVersion: apiVersionOf(type.group, version) };
}

export function toStorage<T extends Resource>(obj: T, type: ResourceType): T {
  return { ...obj, apiVersion: storageApiVersion(type) };
}

export function keyOf(type: ResourceType, name: string, namespace: string | undefined): ObjectKey {
  const key: ObjectKey = { group: type.group, kind: type.kind, name };
  if (type.namespaced && namespace !== undefined) key.namespace = namespace;
  return key;
}

/** The alphabet kube-apiserver draws generated suffixes from (no vowels, no look-alikes). */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATED_PREFIX = 58;

export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return `${prefix.slice(0, MAX_GENERATED_PREFIX)}${suffix}`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Kubernetes timestamps are RFC 3339 in UTC without fractional seconds. */
export function kubeNow(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
