/** Public entry of the one validator set shared by the CLI, the local store and the Kubernetes webhook. */
export { validateResource, validateDocuments, type ValidationContext } from './validate.js';
export { registerKind, registeredKinds, type SemanticCheck, type ProblemReporter } from './registry.js';
export { formatFieldPath } from './problems.js';
export { parseGoDuration } from './duration.js';
