/**
 * The sidecar's own certificate: it makes its key (which never leaves this process, except to its
 * 0600 file beside the last good snapshot), sends a CSR to the control plane, and renews at about
 * two thirds of the lifetime with jitter. The trust bundle arrives on the snapshot stream; when
 * the active root changes (a root rotation) the sidecar reissues from the new root, and until then
 * trusts both. Secure contexts are swapped atomically: new connections use the new certificate,
 * connections in flight finish on the old one.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { PrivateKeyPem, createWorkloadKeyAndCsr, parseServiceIdentity, renewDelayMs } from '../../identity/index.js';
import type { SidecarLog } from '../observability/log.js';
import { controlPlaneChannel } from '../config/control-plane-fetch.js';

export interface TrustState {
  bundle: string[];
  activeRoot: string;
}

interface Held {
  keyPem: PrivateKeyPem;
  chainPem: string;
  leaf: X509Certificate;
}

export interface CertificateInfo {
  identity: string;
  commonName: string;
  spiffeId: string | undefined;
  serialNumber: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** fingerprints of the roots this sidecar trusts */
  trustedRoots: string[];
  certChain: string;
}

export interface WorkloadIdentityOptions {
  identity: string;
  controllerUrl: string;
  uuid: string;
  token: string;
  dataDir: string;
  log: SidecarLog;
}

export class WorkloadIdentity {
  private held: Held | undefined;
  private trust: TrustState | undefined;
  private context: SecureContext | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private requesting: Promise<void> | undefined;
  private stopped = false;
  /** called whenever the secure context changes (new certificate or trust bundle) */
  onChange: () => void = () => undefined;

  constructor(private readonly opts: WorkloadIdentityOptions) {}

  /** The current TLS context (our chain and key, the trusted roots), or undefined until both exist. */
  secureContext(): SecureContext | undefined {
    return this.context;
  }

  /** The same as options, for a `tls.Server` (`setSecureContext` takes options). */
  secureContextOptions(): SecureContextOptions | undefined {
    const h = this.held;
    const t = this.trust;
    if (!h || !t || t.bundle.length === 0) return undefined;
    return { key: h.keyPem.reveal(), cert: h.chainPem, ca: t.bundle, minVersion: 'TLSv1.2' };
  }

  get ready(): boolean {
    return this.context !== undefined;
  }

  /** Loads a saved certificate that is still good; then makes sure one is being obtained. */
  async start(): Promise<void> {
    await this.loadSaved();
    if (!this.held || this.expiresSoon()) void this.renew('no usable certificate');
    else this.scheduleRenewal();
  }

  stop(): void {
    this.stopped = true;
    if (this.renewTimer) clearTimeout(this.renewTimer);
  }

  /** A new trust bundle from the control plane. */
  setTrust(trust: TrustState): void {
    const changed = JSON.stringify(trust) !== JSON.stringify(this.trust);
    this.trust = trust;
    if (!changed) return;
    this.rebuild();
    void this.persist();
    if (this.held && !this.issuedByActiveRoot()) {
      // a root rotation: reissue from the new root soon, spread so proxies do not all ask at once
      const delay = Math.floor(Math.random() * 2000);
      this.opts.log.info('the mesh root changed; reissuing the workload certificate', { inMs: delay });
      if (this.renewTimer) clearTimeout(this.renewTimer);
      this.renewTimer = setTimeout(() => void this.renew('root rotation'), delay);
      this.renewTimer.unref();
    }
  }

  info(): CertificateInfo | undefined {
    const h = this.held;
    if (!h) return undefined;
    const uri = h.leaf.subjectAltName?.split(', ').find((n) => n.startsWith('URI:'))?.slice(4);
    return {
      identity: this.opts.identity,
      commonName: /CN=([^\n,]+)/.exec(h.leaf.subject)?.[1] ?? '',
      spiffeId: uri,
      serialNumber: h.leaf.serialNumber,
      issuer: h.leaf.issuer.replace(/\n/g, ', '),
      notBefore: new Date(h.leaf.validFrom).toISOString(),
      notAfter: new Date(h.leaf.validTo).toISOString(),
      trustedRoots: (this.trust?.bundle ?? []).map((pem) => new X509Certificate(pem).fingerprint256),
      certChain: h.chainPem,
    };
  }

  private issuedByActiveRoot(): boolean {
    const h = this.held;
    const t = this.trust;
    if (!h || !t) return true;
    const active = t.bundle.map((pem) => new X509Certificate(pem)).find((c) => c.fingerprint256 === t.activeRoot);
    return active ? h.leaf.verify(active.publicKey) : true;
  }

  private expiresSoon(): boolean {
    const h = this.held;
    return !h || new Date(h.leaf.validTo).getTime() - Date.now() < 60_000;
  }

  private scheduleRenewal(): void {
    const h = this.held;
    if (!h || this.stopped) return;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    // About two thirds of the lifetime left from now (with jitter), not from notBefore: the CA
    // backdates notBefore for clock skew, which with a short validity would put "two thirds" in the past.
    const now = new Date();
    const delay = Math.max(1000, renewDelayMs({ notBefore: now, notAfter: new Date(h.leaf.validTo) }, now, Math.random()));
    this.renewTimer = setTimeout(() => void this.renew('scheduled renewal'), Math.min(delay, 2 ** 31 - 1));
    this.renewTimer.unref();
  }

  /** Gets a new certificate; retries with backoff while the control plane cannot answer. */
  renew(reason: string): Promise<void> {
    this.requesting ??= this.requestLoop(reason).finally(() => {
      this.requesting = undefined;
    });
    return this.requesting;
  }

  private async requestLoop(reason: string): Promise<void> {
    for (let delay = 500; !this.stopped; delay = Math.min(delay * 2, 30_000)) {
      try {
        await this.requestOnce();
        this.opts.log.info('workload certificate issued', { reason, notAfter: this.info()?.notAfter, serial: this.info()?.serialNumber });
        this.scheduleRenewal();
        return;
      } catch (err) {
        this.opts.log.warn('certificate request failed; retrying', { reason, error: (err as Error).message, retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random() * 0.5)).unref());
      }
    }
  }

  private async requestOnce(): Promise<void> {
    const { csrPem, privateKeyPem } = await createWorkloadKeyAndCsr(parseServiceIdentity(this.opts.identity));
    // TLS to the cluster CA's controller only, with the newest proxy token (control-plane-fetch.ts).
    const channel = controlPlaneChannel({ controllerUrl: this.opts.controllerUrl, uuid: this.opts.uuid, token: this.opts.token });
    const res = await channel.fetch(`/v1/proxies/${this.opts.uuid}/csr`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csr: csrPem }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { certChain?: string; trust?: TrustState; error?: string };
    if (!res.ok || !body.certChain) throw new Error(`control plane refused the CSR: HTTP ${res.status} ${body.error ?? ''}`);
    const leaf = new X509Certificate(body.certChain);
    if (!leaf.checkPrivateKey(createPrivateKeyObject(privateKeyPem))) throw new Error('issued certificate does not match our key');
    this.held = { keyPem: privateKeyPem, chainPem: body.certChain, leaf };
    if (body.trust) this.trust = body.trust;
    this.rebuild();
    await this.persist();
  }

  private rebuild(): void {
    const options = this.secureContextOptions();
    if (!options) return;
    this.context = createSecureContext(options);
    this.onChange();
  }

  private async loadSaved(): Promise<void> {
    try {
      const saved = JSON.parse(await readFile(join(this.opts.dataDir, 'identity.json'), 'utf8')) as {
        identity: string;
        key: string;
        chain: string;
        trust: TrustState;
      };
      if (saved.identity !== this.opts.identity) return;
      const leaf = new X509Certificate(saved.chain);
      if (new Date(leaf.validTo).getTime() <= Date.now()) return;
      this.held = { keyPem: new PrivateKeyPem(saved.key), chainPem: saved.chain, leaf };
      this.trust = saved.trust;
      this.rebuild();
      this.opts.log.info('serving with the saved workload certificate', { notAfter: new Date(leaf.validTo).toISOString() });
    } catch {
      // none saved yet, or unreadable: ask the control plane
    }
  }

  private async persist(): Promise<void> {
    const h = this.held;
    if (!h || !this.trust) return;
    await mkdir(this.opts.dataDir, { recursive: true, mode: 0o700 });
    const file = join(this.opts.dataDir, 'identity.json');
    const tmp = `${file}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ identity: this.opts.identity, key: h.keyPem.reveal(), chain: h.chainPem, trust: this.trust }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  }
}

function createPrivateKeyObject(pem: PrivateKeyPem): ReturnType<typeof createPrivateKey> {
  return createPrivateKey(pem.reveal());
}
