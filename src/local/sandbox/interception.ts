/**
 * The init step's iptables rules: FSM's chain layout (PROXY_INBOUND → PROXY_IN_REDIRECT → :15003,
 * PROXY_OUTPUT → PROXY_REDIRECT → :15001), written as one `iptables-restore` document for the nat
 * table so the step is atomic and idempotent (restore without --noflush replaces the whole nat table,
 * which in a pod's own network namespace holds nothing else). Pure: the pod runner and the
 * Kubernetes injector produce the same text.
 */
import { isIP } from 'node:net';
import { parseCidr } from '../../lib/cidr.js';
import { MeshError } from '../../lib/errors.js';

export const SIDECAR_ADMIN_PORT = 15000;
export const SIDECAR_OUTBOUND_PORT = 15001;
export const SIDECAR_INBOUND_PORT = 15003;
/** Prometheus (15010), liveness/readiness/startup probes (15901–15903) and health check (15904), as FSM. */
export const SIDECAR_HEALTH_PORTS: readonly number[] = [15010, 15901, 15902, 15903, 15904];

export interface InterceptionOptions {
  /** uid the sidecar runs as: its own connections leave unredirected */
  proxyUid: number;
  inboundPort?: number;
  outboundPort?: number;
  adminPort?: number;
  excludeInboundPorts?: readonly number[];
  excludeOutboundPorts?: readonly number[];
  excludeOutboundCIDRs?: readonly string[];
  /** when non-empty, only these destinations are redirected (CIDRs of either family) */
  includeOutboundCIDRs?: readonly string[];
  /** when non-empty, only these destination ports are redirected */
  includeOutboundPorts?: readonly number[];
  /** true: rules for ip6tables-restore (IPv6 CIDRs only, ::1 for loopback) */
  ipv6: boolean;
}

/** The annotation-driven part of the options. */
export type InterceptionAnnotations = Pick<
  InterceptionOptions,
  'excludeInboundPorts' | 'excludeOutboundPorts' | 'excludeOutboundCIDRs' | 'includeOutboundCIDRs' | 'includeOutboundPorts'
>;

export const ANNOTATION_OUTBOUND_PORT_EXCLUSION = 'flomesh.io/outbound-port-exclusion-list';
export const ANNOTATION_INBOUND_PORT_EXCLUSION = 'flomesh.io/inbound-port-exclusion-list';
export const ANNOTATION_OUTBOUND_IP_RANGE_EXCLUSION = 'flomesh.io/outbound-ip-range-exclusion-list';
export const ANNOTATION_OUTBOUND_IP_RANGE_INCLUSION = 'flomesh.io/outbound-ip-range-inclusion-list';
export const ANNOTATION_OUTBOUND_PORT_INCLUSION = 'flomesh.io/outbound-port-inclusion-list';

// multiport takes at most 15 ports per rule.
const MULTIPORT_MAX = 15;

function invalid(field: string, message: string): MeshError {
  return new MeshError('MESH_ERR_MANIFEST_INVALID', `${field}: ${message}`, {
    problems: [{ resource: 'interception', field, message }],
  });
}

function checkPort(field: string, p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalid(field, `port ${p} is not an integer in 1..65535`);
  return p;
}

function checkCidr(field: string, c: string): { text: string; v6: boolean } {
  const parsed = parseCidr(c);
  if (!parsed) throw invalid(field, `'${c}' is not a CIDR (address/prefix)`);
  return { text: c, v6: parsed.family === 'ipv6' };
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function multiport(ports: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ports.length; i += MULTIPORT_MAX) out.push(ports.slice(i, i + MULTIPORT_MAX).join(','));
  return out;
}

/** The `iptables-restore` (or, with `ipv6`, `ip6tables-restore`) document for a pod's nat table. */
export function interceptionRules(opts: InterceptionOptions): string {
  if (!Number.isInteger(opts.proxyUid) || opts.proxyUid < 0) throw invalid('proxyUid', `${opts.proxyUid} is not a uid`);
  const inbound = checkPort('inboundPort', opts.inboundPort ?? SIDECAR_INBOUND_PORT);
  const outbound = checkPort('outboundPort', opts.outboundPort ?? SIDECAR_OUTBOUND_PORT);
  const admin = checkPort('adminPort', opts.adminPort ?? SIDECAR_ADMIN_PORT);
  const uid = opts.proxyUid;
  const loopback = opts.ipv6 ? '::1/128' : '127.0.0.1/32';
  const ofFamily = (field: string, cidrs: readonly string[] | undefined): string[] =>
    unique((cidrs ?? []).map((c) => checkCidr(field, c)).filter((c) => c.v6 === opts.ipv6).map((c) => c.text));
  const ports = (field: string, xs: readonly number[] | undefined): number[] => unique((xs ?? []).map((p) => checkPort(field, p)));

  const excludeIn = ports('excludeInboundPorts', opts.excludeInboundPorts);
  const excludeOut = ports('excludeOutboundPorts', opts.excludeOutboundPorts);
  const includePorts = ports('includeOutboundPorts', opts.includeOutboundPorts);
  const excludeCidrs = ofFamily('excludeOutboundCIDRs', opts.excludeOutboundCIDRs);
  // Inclusion is decided over both families: a list naming only IPv4 ranges redirects no IPv6 traffic.
  const inclusionMode = (opts.includeOutboundCIDRs ?? []).length > 0;
  const includeCidrs = ofFamily('includeOutboundCIDRs', opts.includeOutboundCIDRs);

  const r: string[] = [
    `# Tessera sidecar interception, ${opts.ipv6 ? 'IPv6 (ip6tables-restore)' : 'IPv4 (iptables-restore)'}; FSM chain layout`,
    '*nat',
    ':PROXY_INBOUND - [0:0]',
    ':PROXY_IN_REDIRECT - [0:0]',
    ':PROXY_OUTPUT - [0:0]',
    ':PROXY_REDIRECT - [0:0]',
    '-A PREROUTING -p tcp -j PROXY_INBOUND',
    '-A OUTPUT -p tcp -j PROXY_OUTPUT',
    `-A PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${inbound}`,
  ];
  // The admin and health listeners answer on their own ports; redirecting them would hand a probe to
  // the inbound listener, which knows no such route.
  for (const group of multiport(unique([admin, ...SIDECAR_HEALTH_PORTS]))) {
    r.push(`-A PROXY_INBOUND -p tcp -m multiport --dports ${group} -j RETURN`);
  }
  for (const group of multiport(excludeIn)) r.push(`-A PROXY_INBOUND -p tcp -m multiport --dports ${group} -j RETURN`);
  r.push('-A PROXY_INBOUND -p tcp -j PROXY_IN_REDIRECT');

  // FSM appends the admin exception after the REDIRECT, where it never matches; it must come first.
  r.push(`-A PROXY_REDIRECT -p tcp --dport ${admin} -j ACCEPT`);
  r.push(`-A PROXY_REDIRECT -p tcp -j REDIRECT --to-ports ${outbound}`);

  // The sidecar dialing its own pod IP (an app calling its own Service) must still pass the inbound
  // listener, so its policies apply as they would for any other caller.
  r.push(`-A PROXY_OUTPUT -o lo ! -d ${loopback} -m owner --uid-owner ${uid} -j PROXY_IN_REDIRECT`);
  // The app dialing its own pod IP stays local, as in Kubernetes: no sidecar on either side.
  r.push(`-A PROXY_OUTPUT -o lo -m owner ! --uid-owner ${uid} -j RETURN`);
  r.push(`-A PROXY_OUTPUT -m owner --uid-owner ${uid} -j RETURN`);
  r.push(`-A PROXY_OUTPUT -d ${loopback} -j RETURN`);
  for (const c of excludeCidrs) r.push(`-A PROXY_OUTPUT -d ${c} -j RETURN`);
  for (const group of multiport(excludeOut)) r.push(`-A PROXY_OUTPUT -p tcp -m multiport --dports ${group} -j RETURN`);

  const portGroups = includePorts.length > 0 ? multiport(includePorts).map((g) => ` -p tcp -m multiport --dports ${g}`) : [''];
  if (inclusionMode) {
    for (const c of includeCidrs) for (const g of portGroups) r.push(`-A PROXY_OUTPUT -d ${c}${g} -j PROXY_REDIRECT`);
    r.push('-A PROXY_OUTPUT -j RETURN');
  } else if (includePorts.length > 0) {
    for (const g of portGroups) r.push(`-A PROXY_OUTPUT${g} -j PROXY_REDIRECT`);
    r.push('-A PROXY_OUTPUT -j RETURN');
  } else {
    r.push('-A PROXY_OUTPUT -j PROXY_REDIRECT');
  }
  r.push('COMMIT', '');
  return r.join('\n');
}

function listOf(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function annotationProblem(name: string, message: string): MeshError {
  const field = `metadata.annotations[${name}]`;
  return new MeshError('MESH_ERR_MANIFEST_INVALID', `annotation ${name}: ${message}`, {
    problems: [{ resource: 'Pod', field, message }],
  });
}

function portsOf(annotations: Record<string, string>, name: string): number[] | undefined {
  const raw = annotations[name];
  if (raw === undefined) return undefined;
  return listOf(raw).map((item) => {
    if (!/^\d{1,5}$/.test(item) || Number(item) < 1 || Number(item) > 65535) {
      throw annotationProblem(name, `'${item}' is not a port (an integer in 1..65535)`);
    }
    return Number(item);
  });
}

function cidrsOf(annotations: Record<string, string>, name: string): string[] | undefined {
  const raw = annotations[name];
  if (raw === undefined) return undefined;
  return listOf(raw).map((item) => {
    if (!parseCidr(item)) {
      const hint = isIP(item) !== 0 ? ` (a single address needs a prefix: ${item}/${isIP(item) === 4 ? 32 : 128})` : '';
      throw annotationProblem(name, `'${item}' is not an IP range in CIDR form${hint}`);
    }
    return item;
  });
}

/**
 * Reads FSM's interception annotations from a pod's metadata.annotations. Lists are comma separated,
 * blanks ignored; the first bad item fails with MESH_ERR_MANIFEST_INVALID naming the annotation.
 */
export function annotationsToInterception(annotations: Record<string, string> | undefined): InterceptionAnnotations {
  const a = annotations ?? {};
  const out: InterceptionAnnotations = {};
  const excludeInboundPorts = portsOf(a, ANNOTATION_INBOUND_PORT_EXCLUSION);
  const excludeOutboundPorts = portsOf(a, ANNOTATION_OUTBOUND_PORT_EXCLUSION);
  const includeOutboundPorts = portsOf(a, ANNOTATION_OUTBOUND_PORT_INCLUSION);
  const excludeOutboundCIDRs = cidrsOf(a, ANNOTATION_OUTBOUND_IP_RANGE_EXCLUSION);
  const includeOutboundCIDRs = cidrsOf(a, ANNOTATION_OUTBOUND_IP_RANGE_INCLUSION);
  if (excludeInboundPorts) out.excludeInboundPorts = excludeInboundPorts;
  if (excludeOutboundPorts) out.excludeOutboundPorts = excludeOutboundPorts;
  if (includeOutboundPorts) out.includeOutboundPorts = includeOutboundPorts;
  if (excludeOutboundCIDRs) out.excludeOutboundCIDRs = excludeOutboundCIDRs;
  if (includeOutboundCIDRs) out.includeOutboundCIDRs = includeOutboundCIDRs;
  return out;
}
