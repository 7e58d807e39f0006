/**
 * The V8 flags a sidecar process runs with, wherever it is started: the local runtime's command line,
 * the injected container's NODE_OPTIONS, the bench. A young generation of 4 MiB semi-spaces (V8's
 * default grows them to 16 MiB) keeps a loaded sidecar's RSS about 20 MiB lower for no measurable
 * CPU per request; 2 MiB cost CPU, and --lite-mode or --optimize-for-size cost far more than they
 * saved (docs/benchmarks.md, "Sidecar memory").
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
