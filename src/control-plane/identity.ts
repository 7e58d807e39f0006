/**
 * The mesh's certificate authority as the control plane runs it: the root lives in the Secret
 * `<mesh>-ca-bundle` (`ca.crt`, `private.key`) so the seed's openssl commands read it; roots still
 * trusted live in the ConfigMap `<mesh>-ca-trust-bundle`. Deleting the Secret and restarting the
 * control plane rotates the root: the new root joins the stored bundle, sidecars trust both and
 * reissue, and the old root is retired once every proxy holds a certificate from the new one.
 */
import type { ConfigMap, Resource, Secret } from '../api/types.js';
import { isMeshError, MeshError } from '../lib/errors.js';
import {
  TrustBundle,
  issueAccessCertSecret,
  loadOrCreateCa,
  meshSystemNamespace,
  parseServiceIdentity,
  reconcileTrustBundle,
  signWorkloadCsr,
  trustBundleConfigMapName,
  trustBundleFromConfigMap,
  trustBundleToConfigMap,
  type AccessCertRequest,
  type CertificateAuthority,
  type IssuedCertificate,
  type SecretStore,
} from '../identity/index.js';
import type { MeshApi } from '../local/api-contract.js';

export interface TrustState {
  /** every root sidecars must trust, PEM, active root first */
  bundle: string[];
  /** SHA-256 fingerprint of the root that signs new certificates */
  activeRoot: string;
}

/** Whether this replica may write now (the leader election's `canWrite`); always, by default. */
export type WriteGate = () => boolean;

/** A replica that does not lead never creates the CA: it waits (the caller retries) for the leader's. */
function notLeading(what: string): MeshError {
  return new MeshError('MESH_ERR_NOT_FOUND', `${what} does not exist yet and this replica does not hold the leader election Lease: waiting for the leader to create it`);
}

function secretStore(api: MeshApi, canWrite: WriteGate): SecretStore {
  return {
    async get(namespace, name) {
      try {
        return (await api.get('Secret', name, namespace)) as Secret;
      } catch (e) {
        if (isMeshError(e) && e.code === 'MESH_ERR_NOT_FOUND') {
          // Checked before a root key is generated, and again before the create.
          if (!canWrite()) throw notLeading(`Secret ${namespace}/${name}`);
          return undefined;
        }
        throw e;
      }
    },
    async create(secret) {
      if (!canWrite()) throw notLeading(`Secret ${secret.metadata.namespace}/${secret.metadata.name}`);
      await api.apply([{ source: 'control-plane', index: 1, line: 1, object: secret as unknown as Record<string, unknown> }], {});
      return secret;
    },
  };
}

export class MeshIdentity {
  /**
   * The process's write gate, for replicas under leader election (control-plane/main.ts sets it to
   * the elector's `canWrite`): the CA bundle Secret is created, and the trust-bundle ConfigMap
   * written, only while it says true. Reads, signing and the in-memory bundle are unaffected.
   */
  static canWrite: WriteGate = () => true;

  private bundle: TrustBundle;
  /** the trust bundle changed while this replica could not write it: written by `flushBundle` */
  private bundleUnwritten = false;
  /** proxy uuid → fingerprint of the root that issued its current certificate */
  private readonly issuedBy = new Map<string, string>();

  private constructor(
    private readonly api: MeshApi,
    private readonly meshName: string,
    private readonly ca: CertificateAuthority,
    bundle: TrustBundle,
    private readonly canWrite: WriteGate,
  ) {
    this.bundle = bundle;
  }

  /** Loads or creates the CA, and reconciles the stored trust bundle with it. */
  static async start(api: MeshApi, meshName: string, opts: { canWrite?: WriteGate } = {}): Promise<{ identity: MeshIdentity; created: boolean }> {
    const canWrite = opts.canWrite ?? (() => MeshIdentity.canWrite());
    const { ca, created } = await loadOrCreateCa(secretStore(api, canWrite), { meshName });
    let stored: ConfigMap | undefined;
    try {
      stored = (await api.get('ConfigMap', trustBundleConfigMapName(meshName), meshSystemNamespace(meshName))) as ConfigMap;
    } catch (e) {
      if (!(isMeshError(e) && e.code === 'MESH_ERR_NOT_FOUND')) throw e;
    }
    const bundle = reconcileTrustBundle(trustBundleFromConfigMap(stored), ca.certificatePem, new Date());
    const identity = new MeshIdentity(api, meshName, ca, bundle, canWrite);
    await identity.persistBundle();
    return { identity, created };
  }

  get trust(): TrustState {
    return { bundle: this.bundle.pems(), activeRoot: this.activeFingerprint };
  }

  private get activeFingerprint(): string {
    return TrustBundle.fromPem(this.ca.certificatePem).roots[0]!.fingerprint;
  }

  /** Signs a proxy's CSR for the identity the control plane authenticated (never one the CSR claims). */
  async sign(uuid: string, csrPem: string, identity: string, ttlMs: number, sans: string[]): Promise<IssuedCertificate> {
    const issued = await signWorkloadCsr(this.ca, csrPem, { identity: parseServiceIdentity(identity), sans, ttlMs });
    this.issuedBy.set(uuid, this.activeFingerprint);
    return issued;
  }

  /** AccessCert: a client key and certificate from the active root, `ca.crt` holding every trusted root. */
  issueAccessCert(request: Omit<AccessCertRequest, 'trustBundle'>): Promise<{ secret: Secret; certificate: IssuedCertificate }> {
    return issueAccessCertSecret(this.ca, { ...request, trustBundle: this.bundle });
  }

  /**
   * Retires roots no proxy depends on any more: once every live proxy holds a certificate from the
   * active root, older roots leave the bundle. Returns true when the bundle changed.
   */
  async retireOldRoots(liveProxies: readonly string[]): Promise<boolean> {
    if (this.bundle.pems().length <= 1) return false;
    const active = this.activeFingerprint;
    if (liveProxies.some((uuid) => this.issuedBy.get(uuid) !== active)) return false;
    this.bundle = TrustBundle.fromPem(this.ca.certificatePem);
    await this.persistBundle();
    return true;
  }

  /** Drops proxies that are gone from the issuance record. */
  forget(alive: ReadonlySet<string>): void {
    for (const uuid of this.issuedBy.keys()) if (!alive.has(uuid)) this.issuedBy.delete(uuid);
  }

  /** Writes the trust bundle if a change was kept from the API while this replica did not lead. */
  async flushBundle(): Promise<void> {
    if (this.bundleUnwritten) await this.persistBundle();
  }

  private async persistBundle(): Promise<void> {
    if (!this.canWrite()) {
      this.bundleUnwritten = true;
      return;
    }
    this.bundleUnwritten = false;
    const cm = trustBundleToConfigMap(this.bundle, { meshName: this.meshName }) as Resource;
    await this.api.apply([{ source: 'control-plane', index: 1, line: 1, object: cm as unknown as Record<string, unknown> }], {});
  }
}

/** One SSE event carrying the trust bundle. */
export function trustEvent(t: TrustState): string {
  return `event: trust\ndata: ${JSON.stringify(t)}\n\n`;
}
