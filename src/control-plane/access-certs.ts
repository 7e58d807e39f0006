/**
 * AccessCert issuance (fsm-design.md §1.4): for each AccessCert, while `enableAccessCertPolicy` is
 * on, a client certificate (CN = first SAN) from the mesh CA is written through the API as the
 * named `kubernetes.io/tls` Secret (`ca.crt`, `tls.crt`, `tls.key`). It is re-issued when the
 * AccessCert changes, when the trust bundle changes (a root rotation starts or ends), and at two
 * thirds of its lifetime. Secrets it issued for AccessCerts that are gone (or now name another
 * Secret) are deleted.
 */
import { serialized } from '../lib/serialized.js';
import { createHash } from 'node:crypto';
import type { AccessCert, AccessCertSpec } from '../api/policy-types.js';
import { MONITORED_BY_LABEL, type MeshConfig, type Resource, type Secret } from '../api/types.js';
import { findMeshConfig } from '../catalog/index.js';
import { byString } from '../catalog/pods.js';
import { renewAt } from '../identity/index.js';
import type { MeshApi } from '../local/api-contract.js';
import type { ControllerLog } from './controller.js';
import type { MeshIdentity } from './identity.js';

/** Which AccessCert (`ns/name`) a Secret was issued for: only such Secrets are ever deleted. */
export const ACCESS_CERT_OWNER_ANNOTATION = 'policy.flomesh.io/access-cert';
/** Hash of the AccessCert spec and the trust bundle the Secret was issued under. */
export const ACCESS_CERT_HASH_ANNOTATION = 'policy.flomesh.io/access-cert-hash';
/** When the Secret is due for re-issue (ISO time). */
export const ACCESS_CERT_RENEW_ANNOTATION = 'policy.flomesh.io/access-cert-renew-after';

/**
 * Tessera's choice (FSM does not document one): a client outside the mesh reads its Secret when it
 * starts, so the certificate lives a year and is re-issued well before it expires.
 */
export const ACCESS_CERT_VALIDITY_MS = 365 * 24 * 3600 * 1000;

const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

/** An AccessCert whose spec has what issuance reads (validation guarantees it; a hand-edited store may not). */
type Issuable = AccessCert & { spec: AccessCertSpec };

function issuable(r: Resource): r is Issuable {
  const spec = (r as AccessCert).spec;
  return Array.isArray(spec?.subjectAltNames) && typeof spec?.secret?.name === 'string';
}

function target(ac: Issuable): { name: string; namespace: string } {
  return { name: ac.spec.secret.name, namespace: ac.spec.secret.namespace || ac.metadata.namespace! };
}

export interface AccessCertIssuerOptions {
  api: Pick<MeshApi, 'apply' | 'delete'>;
  meshName: string;
  identity: () => Pick<MeshIdentity, 'issueAccessCert' | 'trust'> | undefined;
  log: ControllerLog;
  now?: () => Date;
  /** whether this replica may write now (leader election); always, by default */
  canWrite?: () => boolean;
}

export class AccessCertIssuer {
  private readonly accessCerts = new Map<string, Issuable>();
  private readonly secrets = new Map<string, Secret>();
  private meshConfig: MeshConfig | undefined;
  /** `flomesh.io/monitored-by` of the namespaces that have it: another mesh's namespaces are its controller's */
  private readonly namespaceOwners = new Map<string, string>();
  /**
   * Only while this says true is anything issued or deleted: with several replicas, the leader's
   * (control-plane/main.ts sets the elector's `canWrite`). Checked before every write.
   */
  canWrite: () => boolean;

  constructor(private readonly opts: AccessCertIssuerOptions) {
    this.canWrite = opts.canWrite ?? (() => true);
  }

  sync(objects: readonly Resource[]): void {
    this.accessCerts.clear();
    this.secrets.clear();
    this.namespaceOwners.clear();
    this.meshConfig = findMeshConfig(objects, this.opts.meshName);
    for (const o of objects) this.track('ADDED', o);
    void this.reconcile();
  }

  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource): void {
    if (object.kind === 'MeshConfig') {
      const mine = findMeshConfig([object], this.opts.meshName);
      if (mine) this.meshConfig = type === 'DELETED' ? undefined : mine;
    }
    if (this.track(type, object)) void this.reconcile();
  }

  private track(type: string, o: Resource): boolean {
    if (o.kind === 'Namespace') {
      const owner = type === 'DELETED' ? undefined : o.metadata.labels?.[MONITORED_BY_LABEL];
      if (owner === undefined) this.namespaceOwners.delete(o.metadata.name);
      else this.namespaceOwners.set(o.metadata.name, owner);
      return true;
    }
    const map = o.kind === 'AccessCert' ? this.accessCerts : o.kind === 'Secret' ? this.secrets : undefined;
    if (!map) return o.kind === 'MeshConfig' || o.kind === 'ConfigMap';
    const key = keyOf(o.metadata.namespace, o.metadata.name);
    if (type === 'DELETED' || (o.kind === 'AccessCert' && !issuable(o))) map.delete(key);
    else map.set(key, o as never);
    return true;
  }

  /** One pass at a time; a request during a pass runs one more pass after it. */
  readonly reconcile: () => Promise<void> = serialized(() => this.reconcileOnce());

  private get enabled(): boolean {
    return this.meshConfig?.spec?.featureFlags?.enableAccessCertPolicy === true;
  }

  private async reconcileOnce(): Promise<void> {
    const identity = this.opts.identity();
    // Nothing is issued or deleted while the flag is off.
    if (!identity || !this.enabled || !this.canWrite()) return;
    const bundleHash = createHash('sha256').update(identity.trust.bundle.join('\n')).digest('hex');
    const now = (this.opts.now ?? (() => new Date()))();
    const wanted = new Map<string, string>(); // secret key → AccessCert key
    for (const [acKey, ac] of [...this.accessCerts].sort((a, b) => byString(a[0], b[0]))) {
      const owner = this.namespaceOwners.get(ac.metadata.namespace ?? 'default');
      if (owner !== undefined && owner !== this.opts.meshName) continue;
      const t = target(ac);
      const secretKey = keyOf(t.namespace, t.name);
      wanted.set(secretKey, acKey);
      const hash = createHash('sha256').update(JSON.stringify([ac.spec.subjectAltNames, t, bundleHash])).digest('hex');
      const existing = this.secrets.get(secretKey)?.metadata.annotations ?? {};
      const renewAfter = Date.parse(existing[ACCESS_CERT_RENEW_ANNOTATION] ?? '');
      if (existing[ACCESS_CERT_HASH_ANNOTATION] === hash && existing[ACCESS_CERT_OWNER_ANNOTATION] === acKey && renewAfter > now.getTime()) continue;
      if (!this.canWrite()) return; // leadership lost part-way: the new leader finishes
      await this.issue(identity, ac, acKey, t, hash, now);
    }
    // Secrets we issued whose AccessCert is gone or names another Secret now.
    for (const [secretKey, secret] of this.secrets) {
      const owner = secret.metadata.annotations?.[ACCESS_CERT_OWNER_ANNOTATION];
      if (owner === undefined || wanted.get(secretKey) === owner) continue;
      const namespaceOwner = this.namespaceOwners.get(secret.metadata.namespace ?? 'default');
      if (namespaceOwner !== undefined && namespaceOwner !== this.opts.meshName) continue;
      if (!this.canWrite()) return;
      try {
        await this.opts.api.delete('Secret', secret.metadata.name, secret.metadata.namespace, { ignoreNotFound: true });
        this.secrets.delete(secretKey);
        this.opts.log.info('deleted the AccessCert Secret of a removed AccessCert', { secret: secretKey, accessCert: owner });
      } catch (err) {
        this.opts.log.warn('cannot delete an AccessCert Secret', { secret: secretKey, error: (err as Error).message });
      }
    }
  }

  private async issue(
    identity: Pick<MeshIdentity, 'issueAccessCert'>,
    ac: Issuable,
    acKey: string,
    t: { name: string; namespace: string },
    hash: string,
    now: Date,
  ): Promise<void> {
    try {
      const { secret, certificate } = await identity.issueAccessCert({
        subjectAltNames: ac.spec.subjectAltNames, secret: t, ttlMs: ACCESS_CERT_VALIDITY_MS, now,
      });
      const renew = new Date(renewAt(certificate, now, Math.random()));
      secret.metadata.annotations = {
        [ACCESS_CERT_OWNER_ANNOTATION]: acKey,
        [ACCESS_CERT_HASH_ANNOTATION]: hash,
        [ACCESS_CERT_RENEW_ANNOTATION]: renew.toISOString(),
      };
      await this.opts.api.apply([{ source: 'control-plane', index: 1, line: 1, object: secret as unknown as Record<string, unknown> }], {});
      // Remember it now, so the next pass does not issue again before the watch echoes the write.
      this.secrets.set(keyOf(t.namespace, t.name), secret);
      this.opts.log.info('issued an AccessCert certificate', { accessCert: acKey, secret: keyOf(t.namespace, t.name), commonName: ac.spec.subjectAltNames[0] });
    } catch (err) {
      this.opts.log.warn('cannot issue an AccessCert certificate', { accessCert: acKey, error: (err as Error).message });
    }
  }
}
