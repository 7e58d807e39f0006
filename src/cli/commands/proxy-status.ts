/**
 * `tessera proxy status`: every proxy's sync state as the controller sees it (`istioctl proxy-status`).
 * Apart from `proxy get` so that a `proxy get` loads none of the table and sync-state code.
 */
import { syncStateOf } from '../../control-plane/registry.js';
import type { MeshStatus, ProxyStatus } from '../../local/api-contract.js';
import type { CliDeps } from '../deps.js';
import { humanDuration } from '../output/age.js';
import { toJson } from '../output/serialize.js';
import { formatTable } from '../output/table.js';
import { UsageError } from '../errors.js';

export interface ProxyStatusOptions {
  stateDir: string;
  output?: string;
}

/** A proxy as `proxy status -o json` prints it: the controller's record with its sync state always set. */
export type ProxyStatusRow = ProxyStatus & { sync: NonNullable<ProxyStatus['sync']> };

/**
 * The rows in a stable order (namespace, then pod, then uuid). The controller's own judgement of the
 * state wins; a controller older than the field is judged here by the same rule.
 */
export function proxyStatusRows(s: Pick<MeshStatus, 'proxies'>, nowMs: number): ProxyStatusRow[] {
  return s.proxies
    .map((p) => ({ ...p, sync: p.sync ?? syncStateOf(p, nowMs) }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod) || a.uuid.localeCompare(b.uuid));
}

/** Versions are sha256 hex; 12 characters tell them apart, as `tessera status` shows them. */
function short(v: string | undefined): string {
  return v ? v.slice(0, 12) : '-';
}

export function formatProxyStatus(rows: readonly ProxyStatusRow[], nowMs: number): string {
  return formatTable(
    ['NAMESPACE', 'POD', 'SYNC', 'SENT', 'APPLIED', 'LAST-ACK', 'ERROR'],
    rows.map((p) => [
      p.namespace,
      p.pod,
      p.sync,
      short(p.sentVersion),
      short(p.appliedVersion),
      p.ackedAt ? `${humanDuration(nowMs - Date.parse(p.ackedAt))} ago` : '-',
      // one line per proxy: a multi-line sidecar error would break the table
      p.lastError ? p.lastError.replace(/\s+/g, ' ') : '-',
    ]),
  );
}

export async function runProxyStatus(opts: ProxyStatusOptions, deps: CliDeps): Promise<void> {
  const output = opts.output?.replace(/^=/, '');
  if (output !== undefined && output !== 'json') throw new UsageError(`unable to match a printer suitable for the output format "${output}", allowed formats are: json`);
  const api = await deps.connect(opts.stateDir);
  const status = await api.status();
  if (!status.controlPlane.ready) {
    throw new Error(`the control plane${status.controlPlane.pod ? ` (pod ${status.controlPlane.pod})` : ''} did not answer: proxy sync state is unknown; see tessera status`);
  }
  const now = Date.now();
  const rows = proxyStatusRows(status, now);
  if (output === 'json') {
    deps.stdout.write(toJson(rows));
    return;
  }
  deps.stdout.write(rows.length ? formatProxyStatus(rows, now) : 'No proxies found.\n');
}
