/**
 * Every sidecar as `istioctl proxy-status` lists it: sync state, the versions sent and applied, the
 * last acknowledgement; a row opens to the chains per mount point and the certificates it holds.
 */
import { useState } from 'preact/hooks';
import type { ProxyView } from '../model.js';
import { ago, expiryClass, pluginName, shortVersion, timeLeft } from './format.js';

/** The certificate that expires first, or undefined when the proxy showed none. */
function soonestOf(p: ProxyView): ProxyView['certificates'][number] | undefined {
  return p.certificates.length === 0 ? undefined : p.certificates.reduce((a, b) => (Date.parse(b.notAfter) < Date.parse(a.notAfter) ? b : a));
}

const SYNC_CLASS: Record<ProxyView['sync'], string> = { 'SYNCED': 'ok', 'NOT SENT': 'idle', 'STALE': 'warn', 'NACKED': 'bad' };

export function ProxiesView({ proxies, now }: { proxies: ProxyView[]; now: string }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (uuid: string): void =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(uuid)) next.delete(uuid);
      else next.add(uuid);
      return next;
    });
  const counts = proxies.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p.sync]: (acc[p.sync] ?? 0) + 1 }), {});

  return (
    <div class="proxies">
      <p class="summary">
        {proxies.length} sidecar{proxies.length === 1 ? '' : 's'}
        {Object.entries(counts).map(([s, n]) => (
          <span key={s} class={`pill ${SYNC_CLASS[s as ProxyView['sync']]}`}>{n} {s}</span>
        ))}
      </p>
      <table class="grid" data-testid="proxies-table">
        <thead>
          <tr><th /><th>Namespace</th><th>Pod</th><th>Sync</th><th>Sent</th><th>Applied</th><th>Last ACK</th><th>Certificates</th></tr>
        </thead>
        <tbody>
          {proxies.length === 0 && <tr><td colSpan={8} class="empty">No sidecar has connected to the control plane.</td></tr>}
          {proxies.map((p) => {
            const isOpen = open.has(p.uuid);
            const soonest = soonestOf(p);
            return [
              <tr key={p.uuid} class="clickable" onClick={() => toggle(p.uuid)} data-testid="proxy-row" data-pod={`${p.namespace}/${p.pod}`} data-sync={p.sync} aria-expanded={isOpen}>
                <td class="caret">{isOpen ? '▾' : '▸'}</td>
                <td>{p.namespace}</td>
                <td class="mono">
                  {p.pod}
                  {!p.connected && <span class="badge warn" title="its stream to the control plane is closed">disconnected</span>}
                  {p.adminError && <div class="error small" data-testid="proxy-admin-error" title={p.adminSeenAt ? `last answered ${p.adminSeenAt}` : undefined}>admin: {p.adminError}</div>}
                </td>
                <td>
                  <span class={`pill ${SYNC_CLASS[p.sync]}`} data-testid="proxy-sync">{p.sync}</span>
                  {p.sync === 'NACKED' && p.lastError && <div class="error small" data-testid="proxy-error">{p.lastError}</div>}
                </td>
                <td class="mono" title={p.sentVersion}>{shortVersion(p.sentVersion)}</td>
                <td class="mono" title={p.appliedVersion}>{shortVersion(p.appliedVersion)}</td>
                <td title={p.lastAck}>{ago(p.lastAck, now)}</td>
                <td>{soonest === undefined ? '–' : <span class={`expiry ${expiryClass(soonest)}`}>{p.certificates.length}, soonest {timeLeft(soonest.notAfter, now, soonest.daysLeft)}</span>}</td>
              </tr>,
              isOpen && (
                <tr key={`${p.uuid}-detail`} class="detail" data-testid="proxy-detail">
                  <td />
                  <td colSpan={7}>
                    <ProxyDetail proxy={p} now={now} />
                  </td>
                </tr>
              ),
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}

function ProxyDetail({ proxy, now }: { proxy: ProxyView; now: string }) {
  return (
    <div class="proxy-detail">
      <div>
        <h3>Chains</h3>
        {proxy.chains.length === 0 ? (
          <p class="empty">No chains reported.</p>
        ) : (
          <dl class="chains">
            {proxy.chains.map((c) => (
              <div key={c.mount}>
                <dt class="mono">{c.mount}</dt>
                <dd>
                  <ol class="plugins">{c.plugins.map((pl, i) => <li key={i} class="mono" title={pl}>{pluginName(pl)}</li>)}</ol>
                </dd>
              </div>
            ))}
          </dl>
        )}
      </div>
      <div>
        <h3>Certificates</h3>
        {proxy.certificates.length === 0 ? (
          <p class="empty">No certificates reported.</p>
        ) : (
          <table class="grid compact">
            <thead><tr><th>Role</th><th>Subject / SANs</th><th>Serial</th><th>Expires</th></tr></thead>
            <tbody>
              {proxy.certificates.map((c) => (
                <tr key={c.serialNumber + c.role} data-testid="certificate-row">
                  <td>{c.role}</td>
                  <td class="mono wrap">{c.subject}{c.sans.length > 0 && <div class="small">{c.sans.join(', ')}</div>}</td>
                  <td class="mono" title={c.serialNumber}>{c.serialNumber.slice(0, 12)}</td>
                  <td>
                    <span class={`expiry ${expiryClass(c)}`} title={c.notAfter}>{timeLeft(c.notAfter, now, c.daysLeft)}</span>
                    <div class="small">{c.notAfter.slice(0, 10)}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
