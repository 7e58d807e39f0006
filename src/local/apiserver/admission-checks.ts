/**
 * The checks admission borrows from other parts of Tessera (manifest validator, plugin compiler,
 * local image runtimes), loaded lazily so the API server starts even if one of them fails to load,
 * and overridable by tests.
 */
import type { Plugin, PodTemplateSpec, Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { ManifestDocument } from '../api-contract.js';

export interface AdmissionOverrides {
  /** `allowSystemOwned`: a Pod, which only the pod admission (src/local/kube) validates */
  validate?: (docs: ManifestDocument[], namespace?: string, opts?: { allowSystemOwned?: boolean }) => Resource[];
  checkPlugin?: (plugin: Plugin) => Promise<void>;
  checkImages?: (template: PodTemplateSpec) => void;
}

export type AdmissionChecks = Required<AdmissionOverrides>;

function unavailable(what: string, cause: unknown): never {
  throw new MeshError('MESH_ERR_INTERNAL', `the ${what} could not be loaded: ${(cause as Error)?.message ?? cause}`, { cause });
}

export async function loadAdmissionChecks(overrides: AdmissionOverrides = {}): Promise<AdmissionChecks> {
  const validate = overrides.validate ?? await import('../../api/validation/index.js').then(
    (m) => m.validateDocuments as AdmissionChecks['validate'],
    (e: unknown) => () => unavailable('manifest validator', e),
  );
  const checkPlugin = overrides.checkPlugin ?? await import('../../plugins/index.js').then(
    (m) => m.checkPluginScript as AdmissionChecks['checkPlugin'],
    (e: unknown) => async () => unavailable('plugin compiler', e),
  );
  const checkImages = overrides.checkImages ?? await import('../runtime/index.js').then(
    (m) => m.checkPodImages as AdmissionChecks['checkImages'],
    (e: unknown) => () => unavailable('local image runtimes', e),
  );
  return { validate, checkPlugin, checkImages };
}
