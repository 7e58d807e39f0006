/** When to renew a certificate: about two thirds into its life, with jitter. Pure: time and randomness are injected. */

/** Renewal lands between 0.6 and 0.733 of the lifetime: two thirds ± one fifteenth. */
export const RENEW_FRACTION = 2 / 3;
export const RENEW_JITTER_FRACTION = 1 / 15;

/**
 * Epoch ms at which to renew `cert`. Two thirds leaves a third of the life to get the new
 * certificate out even if the control plane is briefly down (FSM's 30 s margin is too tight,
 * fsm-design §3.7). Jitter spreads renewals of certificates issued together. Never before `now`.
 *
 * @param random a value in [0, 1), e.g. Math.random()
 */
export function renewAt(cert: { notBefore: Date; notAfter: Date }, now: Date, random: number): number {
  const start = cert.notBefore.getTime();
  const lifetime = cert.notAfter.getTime() - start;
  const r = Math.min(Math.max(random, 0), 1);
  const fraction = RENEW_FRACTION + (2 * r - 1) * RENEW_JITTER_FRACTION;
  return Math.max(now.getTime(), start + Math.floor(lifetime * fraction));
}

/** Milliseconds from `now` until `renewAt`, for a timer. */
export function renewDelayMs(cert: { notBefore: Date; notAfter: Date }, now: Date, random: number): number {
  return renewAt(cert, now, random) - now.getTime();
}
