/** Which schema (and cross-field check) validates each kind; a new kind is one `registerKind` call. */
import type { z } from 'zod';
import { kindInfo, type KindInfo } from '../kinds.js';
import type { Resource } from '../types.js';

/** Reports one problem at a kubectl-style field path (`spec.destinationRefs[0].namespace`). */
export type ProblemReporter = (field: string, message: string) => void;

/**
 * Runs after the schema accepted the object and the envelope is normalised (namespace filled), so it
 * may rely on field types, check rules that span fields, and fill defaults that depend on other fields.
 */
export type SemanticCheck = (resource: Resource, report: ProblemReporter) => void;

export interface RegisteredKind {
  info: KindInfo;
  schema: z.ZodTypeAny;
  semanticCheck?: SemanticCheck;
}

const registry = new Map<string, RegisteredKind>();

/** Registers the validator of `kind`, which must already be listed in `api/kinds.ts`. */
export function registerKind(kind: string, schema: z.ZodTypeAny, semanticCheck?: SemanticCheck): void {
  const info = kindInfo(kind);
  if (!info) throw new Error(`registerKind: ${kind} is not listed in api/kinds.ts`);
  if (registry.has(kind)) throw new Error(`registerKind: ${kind} is registered twice`);
  registry.set(kind, semanticCheck ? { info, schema, semanticCheck } : { info, schema });
}

export function registeredKind(kind: string): RegisteredKind | undefined {
  return registry.get(kind);
}

export function registeredKinds(): string[] {
  return [...registry.keys()];
}
