/** Rate-limited debug logging of dropped datagrams: a flood of denied UDP must not flood the log. */
import type { SidecarLog } from '../observability/log.js';

export class DropLog {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: SidecarLog,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs at debug unless `perWindow` drops were already logged in this window; the skipped count goes on the next line. */
  drop(reason: string, fields: Record<string, unknown>): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perWindow) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    const extra = this.suppressed > 0 ? { suppressedBefore: this.suppressed } : {};
    this.suppressed = 0;
    this.log.log('debug', 'udp datagram dropped', { reason, ...fields, ...extra });
  }
}
