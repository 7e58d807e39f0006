/** The CA as the Opaque Secret `<mesh>-ca-bundle` in `<mesh>-system`, and create-if-absent loading. */
import type { Secret } from '../api/types.js';
import { isMeshError, MeshError } from '../lib/errors.js';
import { createRootCa, loadCertificateAuthority, type CertificateAuthority, type CreateRootCaOptions } from './certificate-authority.js';
import { fromBase64, toBase64 } from './pem.js';

/** Secret data keys, as in FSM (seed 003): `ca.crt`, `private.key`, and Tresor's `expiration`. */
export const CA_SECRET_KEYS = { certificate: 'ca.crt', privateKey: 'private.key', expiration: 'expiration' } as const;

export function caBundleSecretName(meshName: string): string {
  return `${meshName}-ca-bundle`;
}

export function meshSystemNamespace(meshName: string): string {
  return `${meshName}-system`;
}

export interface CaSecretLocation {
  meshName: string;
  /** default `<mesh>-system` */
  namespace?: string;
  /** default `<mesh>-ca-bundle` (FSM's `caBundleSecretName`) */
  secretName?: string;
}

function locate(where: CaSecretLocation): { namespace: string; name: string } {
  return { namespace: where.namespace ?? meshSystemNamespace(where.meshName), name: where.secretName ?? caBundleSecretName(where.meshName) };
}

/** The Secret object holding `ca`; `data` values are base64 PEM, so `base64 -d | openssl x509` reads them. */
export function caToSecret(ca: CertificateAuthority, where: CaSecretLocation): Secret {
  const { namespace, name } = locate(where);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name, namespace },
    data: {
      [CA_SECRET_KEYS.certificate]: toBase64(ca.certificatePem),
      [CA_SECRET_KEYS.privateKey]: toBase64(ca.privateKeyPem.reveal()),
      [CA_SECRET_KEYS.expiration]: toBase64(ca.certificate.notAfter.toISOString()),
    },
  };
}

export async function caFromSecret(secret: Secret): Promise<CertificateAuthority> {
  const where = `Secret ${secret.metadata.namespace ?? ''}/${secret.metadata.name}`;
  const data = secret.data ?? {};
  const read = (key: string): string => {
    const b64 = data[key] ?? (secret.stringData?.[key] !== undefined ? toBase64(secret.stringData[key]!) : undefined);
    if (b64 === undefined) throw new MeshError('MESH_ERR_CERT_INVALID', `${where} has no data key "${key}"`);
    return fromBase64(b64, `${where} data "${key}"`);
  };
  try {
    return await loadCertificateAuthority(read(CA_SECRET_KEYS.certificate), read(CA_SECRET_KEYS.privateKey));
  } catch (e) {
    if (isMeshError(e)) throw new MeshError(e.code, `${where}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** What the CA needs from the API: a read and a create that fails with MESH_ERR_ALREADY_EXISTS on a race. */
export interface SecretStore {
  get(namespace: string, name: string): Promise<Secret | undefined>;
  create(secret: Secret): Promise<Secret>;
}

/**
 * Loads the CA Secret, or creates a root and stores it. Several control-plane replicas may race;
 * as in FSM, whoever loses the create (AlreadyExists) loads the winner's Secret, so all agree.
 */
export async function loadOrCreateCa(
  store: SecretStore,
  options: CaSecretLocation & Omit<CreateRootCaOptions, 'meshName'>,
): Promise<{ ca: CertificateAuthority; created: boolean; secret: Secret }> {
  const { namespace, name } = locate(options);
  const existing = await store.get(namespace, name);
  if (existing) return { ca: await caFromSecret(existing), created: false, secret: existing };
  const ca = await createRootCa(options);
  const secret = caToSecret(ca, options);
  try {
    return { ca, created: true, secret: await store.create(secret) };
  } catch (e) {
    if (!isMeshError(e) || e.code !== 'MESH_ERR_ALREADY_EXISTS') throw e;
    const winner = await store.get(namespace, name);
    if (!winner) throw e;
    return { ca: await caFromSecret(winner), created: false, secret: winner };
  }
}
