/** Persists the trust bundle beside the CA Secret, so a root rotation remembers the root it replaces. */
import type { ConfigMap } from '../api/types.js';
import { meshSystemNamespace } from './ca-secret.js';
import { TrustBundle } from './trust-bundle.js';

/** ConfigMap data key; roots are public, so a ConfigMap (not a Secret) holds them. */
export const TRUST_BUNDLE_KEY = 'ca-bundle.crt';

export function trustBundleConfigMapName(meshName: string): string {
  return `${meshName}-ca-trust-bundle`;
}

export function trustBundleToConfigMap(bundle: TrustBundle, where: { meshName: string; namespace?: string }): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: trustBundleConfigMapName(where.meshName), namespace: where.namespace ?? meshSystemNamespace(where.meshName) },
    data: { [TRUST_BUNDLE_KEY]: bundle.toPem() },
  };
}

export function trustBundleFromConfigMap(configMap: ConfigMap | undefined): TrustBundle {
  return TrustBundle.fromPem(configMap?.data?.[TRUST_BUNDLE_KEY] ?? '');
}

/**
 * The bundle to distribute after (re)loading the CA: the active root first, then every stored root
 * that has not expired. After `<mesh>-ca-bundle` is deleted and the control plane restarts, the old
 * root is still in the stored bundle, so workloads holding old certificates keep verifying (and
 * being verified) until they are reissued; the caller then retires it with `TrustBundle.without`.
 */
export function reconcileTrustBundle(stored: TrustBundle, activeRootPem: string, now: Date): TrustBundle {
  return TrustBundle.fromPem(activeRootPem).with(...stored.withoutExpired(now).pems());
}
