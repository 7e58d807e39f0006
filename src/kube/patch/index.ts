/**
 * The three Kubernetes PATCH body types as pure functions: RFC 6902 JSON patch, RFC 7386 JSON merge
 * patch and strategic merge patch, plus the Content-Type mapping that chooses between them. Nothing
 * here does I/O or mutates its inputs; failures are PatchErrors with a stable code.
 */

export { PatchError, isPatchError, type PatchErrorCode } from './errors.js';
export { applyMergePatch } from './merge-patch.js';
export { applyJsonPatch } from './json-patch.js';
export { applyStrategicMergePatch, type StrategicSchema } from './strategic.js';
export { strategicSchemaFor } from './schemas.js';
export { patchTypeOf, type PatchType } from './content-type.js';
