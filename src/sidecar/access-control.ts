/**
 * AccessControl in the sidecar (fsm-design.md §2.6): whether a client outside the mesh is let in on
 * an inbound port, judged from the port's `SourceIPRanges`. The address is the socket's peer, never
 * a header. Plaintext is admitted from a range whose spec is null; a TLS client whose certificate
 * chains to the mesh CA but carries no mesh identity (an AccessCert) is admitted from an mTLS range
 * whose principals name its CN or a SAN (or `*`). Mesh sidecars never reach this: their identity
 * comes from the verified certificate.
 */
import type { PeerCertificate } from 'node:tls';
import { certificateNames } from '../identity/index.js';
import { cidrContains, parseCidr, type Cidr } from '../lib/cidr.js';
import type { InboundTrafficMatch, SourceSecuritySpec } from '../snapshot/types.js';

interface CompiledRange {
  cidr: Cidr;
  spec: SourceSecuritySpec | null;
}

export type InboundMatches = () => Readonly<Record<string, InboundTrafficMatch>> | undefined;

export class AccessPolicy {
  /** parsed ranges per match object; a new snapshot brings new objects, so stale entries fall away */
  private readonly compiled = new WeakMap<InboundTrafficMatch, CompiledRange[]>();

  constructor(private readonly matches: InboundMatches) {}

  /** A plaintext connection from `remoteAddress` to `localPort` is let in. */
  admitPlaintext(remoteAddress: string, localPort: number): boolean {
    return this.rangesFor(localPort).some((r) => r.spec === null && cidrContains(r.cidr, remoteAddress));
  }

  /**
   * A TLS client whose certificate the handshake verified against the mesh roots, but which holds no
   * mesh identity, is let in. `cert` must come from an authorized socket.
   */
  admitCertificate(remoteAddress: string, localPort: number, cert: PeerCertificate): boolean {
    const specs = this.rangesFor(localPort)
      .filter((r) => r.spec?.mTLS === true && cidrContains(r.cidr, remoteAddress))
      .map((r) => r.spec!);
    if (specs.length === 0) return false;
    const names = certificateNamesOf(cert);
    if (!names) return false;
    return specs.some((s) => s.AuthenticatedPrincipals.some((p) => p === '*' || names.includes(p)));
  }

  private rangesFor(localPort: number): CompiledRange[] {
    const match = this.matches()?.[String(localPort)];
    if (!match?.SourceIPRanges) return [];
    let ranges = this.compiled.get(match);
    if (!ranges) {
      ranges = [];
      for (const [cidr, spec] of Object.entries(match.SourceIPRanges)) {
        const parsed = parseCidr(cidr);
        const checked = spec === null ? null : wellFormed(spec);
        // A malformed entry admits nobody (the sidecar trusts nothing it receives).
        if (parsed && checked !== undefined) ranges.push({ cidr: parsed, spec: checked });
      }
      this.compiled.set(match, ranges);
    }
    return ranges;
  }
}

function wellFormed(spec: unknown): SourceSecuritySpec | undefined {
  if (typeof spec !== 'object' || spec === null) return undefined;
  const { mTLS, SkipClientCertValidation, AuthenticatedPrincipals } = spec as Partial<SourceSecuritySpec>;
  if (!Array.isArray(AuthenticatedPrincipals)) return undefined;
  return {
    mTLS: mTLS === true,
    SkipClientCertValidation: SkipClientCertValidation === true,
    AuthenticatedPrincipals: AuthenticatedPrincipals.filter((p): p is string => typeof p === 'string'),
  };
}

/** CN and every SAN, or undefined for a CA certificate or one whose names cannot be read (never a client). */
function certificateNamesOf(cert: PeerCertificate): string[] | undefined {
  try {
    const n = certificateNames(cert);
    if (n.isCa) return undefined;
    return [...(n.commonName === undefined ? [] : [n.commonName]), ...n.dnsNames, ...n.uris, ...n.ipAddresses];
  } catch {
    return undefined;
  }
}
