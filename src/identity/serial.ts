/** Random certificate serial numbers. */
import { randomBytes } from 'node:crypto';

/**
 * 128 random bits, as FSM's Tresor does. RFC 5280 §4.1.2.2 requires a positive integer of at most
 * 20 octets; CA/B Forum BR §7.1 asks for at least 64 bits of CSPRNG output. @peculiar/x509 adds the
 * leading zero octet when the top bit is set, so the DER stays positive. An all-zero draw is redrawn.
 */
export function randomSerialHex(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const bytes = random(16);
    if (bytes.some((b) => b !== 0)) return bytes.toString('hex');
  }
}
