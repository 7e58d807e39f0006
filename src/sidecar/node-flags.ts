/**
 * The V8 flags a sidecar process runs with, wherever it is started (the local runtime's command
 * line, the injected container's NODE_OPTIONS). Measured in docs/benchmarks.md ("Sidecar memory").
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = [];
