/**
 * MeshConfig `spec.traffic.outboundConnectAllowList`: the destinations a workload may open a CONNECT
 * tunnel to through its sidecar's outbound proxy. An entry is `host:port`; the host is a DNS name
 * (`api.example.com`), a wildcard for the names under a domain (`*.example.com`: one label or more,
 * never the domain itself), an IPv4 literal or a bracketed IPv6 literal; the port is a number or `*`.
 * The validator and the sidecar read entries with this one parser, so what the API admits is what
 * the data path matches.
 */
import { isIP } from 'node:net';

export interface ConnectAllowEntry {
  /** lower case, trailing dot removed; `*.` prefix for a wildcard; IPv6 with its brackets */
  host: string;
  /** undefined: any port */
  port: number | undefined;
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The entry, or a message saying what is wrong with it. */
export function parseConnectAllowEntry(entry: string): ConnectAllowEntry | string {
  const colon = entry.lastIndexOf(':');
  if (colon <= 0) return `"${entry}" needs a port: host:port (or host:*)`;
  const portText = entry.slice(colon + 1);
  let host = entry.slice(0, colon).toLowerCase();
  let port: number | undefined;
  if (portText !== '*') {
    port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) return `"${entry}": the port must be 1-65535 or *`;
  }
  if (host.startsWith('[')) {
    if (!host.endsWith(']') || isIP(host.slice(1, -1)) !== 6) return `"${entry}": not an IPv6 literal`;
    return { host, port };
  }
  if (isIP(host) === 4) return { host, port };
  if (host.endsWith('.')) host = host.slice(0, -1);
  const wildcard = host.startsWith('*.');
  const labels = (wildcard ? host.slice(2) : host).split('.');
  if (labels.some((l) => !LABEL.test(l))) return `"${entry}": not a DNS name, *.domain, IPv4 or [IPv6] literal`;
  if (wildcard && labels.length < 2) return `"${entry}": a wildcard needs a domain of two labels or more (*.example.com)`;
  return { host, port };
}

/**
 * The entry of `list` that allows CONNECT to `host:port` (host canonical: lower case, no trailing
 * dot, IPv6 in brackets), or undefined. Entries that do not parse allow nothing.
 */
export function connectAllowedBy(list: readonly string[] | undefined, host: string, port: number): string | undefined {
  for (const entry of list ?? []) {
    const e = parseConnectAllowEntry(entry);
    if (typeof e === 'string' || (e.port !== undefined && e.port !== port)) continue;
    if (e.host === host) return entry;
    if (e.host.startsWith('*.') && host.endsWith(e.host.slice(1)) && host.length > e.host.length - 1) return entry;
  }
  return undefined;
}
