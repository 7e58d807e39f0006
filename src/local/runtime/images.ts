/** The image registry: which local runtime runs a container, and the apply-time check that one exists. */
import type { Container, PodTemplateSpec } from '../../api/types.js';
import { LOCAL_COMMAND_ANNOTATION } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import { BUILTIN_RUNTIMES } from './builtin-runtimes.js';
import type { ImageRuntime, PodShape } from './types.js';

const runtimes: ImageRuntime[] = [...BUILTIN_RUNTIMES];

/**
 * Adds a runtime. Later runtimes are consulted after the built-ins, so an explicit
 * `local.tessera.dev/command` annotation still wins over an image-specific runtime.
 * Registering a name twice replaces the earlier runtime in place.
 */
export function registerImageRuntime(runtime: ImageRuntime): void {
  const i = runtimes.findIndex((r) => r.name === runtime.name);
  if (i === -1) runtimes.push(runtime);
  else runtimes[i] = runtime;
}

/** The runtime for one container, or undefined when nothing can run it locally. */
export function runtimeFor(container: Container, pod: PodShape): ImageRuntime | undefined {
  return runtimes.find((r) => r.matches(container.image ?? '', container, pod));
}

/** Names of the registered runtimes, in lookup order (for messages and tests). */
export function imageRuntimeNames(): string[] {
  return runtimes.map((r) => r.name);
}

/**
 * Throws MESH_ERR_IMAGE_UNSUPPORTED for the first container no runtime can run, naming the
 * container, the image and the way out. The API server calls this when a workload is applied.
 */
export function checkPodImages(template: PodTemplateSpec | PodShape): void {
  for (const container of template.spec?.containers ?? []) {
    if (runtimeFor(container, template)) continue;
    throw new MeshError(
      'MESH_ERR_IMAGE_UNSUPPORTED',
      `container "${container.name}" image "${container.image}": no local runtime for this image; ` +
        `add annotation ${LOCAL_COMMAND_ANNOTATION} with the command to run`,
    );
  }
}
