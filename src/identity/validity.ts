/** Certificate lifetimes from MeshConfig (`spec.certificate.serviceCertValidityDuration`). */
import { parseGoDuration } from '../api/validation/duration.js';

export const DEFAULT_SERVICE_CERT_VALIDITY_MS = 24 * 3_600_000;
/** The built-in root lives a decade, as FSM's Tresor root does (seed 003). */
export const ROOT_CA_VALIDITY_YEARS = 10;
/**
 * notBefore is set this far in the past so that a peer whose clock runs slightly behind the CA's
 * does not see a fresh certificate as "not yet valid" (SPIRE backdates for the same reason).
 */
export const NOT_BEFORE_BACKDATE_MS = 60_000;

/** A Go duration such as `24h` or `1h30m`; unset, unparsable or non-positive values mean 24h, as in FSM. */
export function serviceCertValidityMs(duration: string | undefined): number {
  if (duration === undefined) return DEFAULT_SERVICE_CERT_VALIDITY_MS;
  const ms = parseGoDuration(duration.trim());
  return ms !== undefined && ms > 0 ? ms : DEFAULT_SERVICE_CERT_VALIDITY_MS;
}
