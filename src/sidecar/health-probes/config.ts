/**
 * What the injector tells the sidecar about the probes it rewrote (FSM pkg/injector/health_probes.go):
 * the kubelet now probes the sidecar's ports, and the sidecar needs each probe's original target to
 * answer. FSM hands the originals to its proxy through the bootstrap config; Tessera puts them in one
 * env var of the sidecar container, `TESSERA_HEALTH_PROBES`, a JSON array of `RewrittenProbe`:
 *
 *   [{"kind":"readiness","container":"web","port":15902,"path":"/fsm-readiness-probe",
 *     "target":{"scheme":"HTTP","port":8080,"path":"/ready"},"timeoutSeconds":1},
 *    {"kind":"liveness","container":"web","port":15904,"path":"/fsm-healthcheck",
 *     "target":{"scheme":"TCP","port":8080},"timeoutSeconds":1}]
 *
 * Pure: the injector writes it, the sidecar parses it.
 */
import { MeshError } from '../../lib/errors.js';

export const HEALTH_PROBES_ENV = 'TESSERA_HEALTH_PROBES';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export const PROBE_KINDS: readonly ProbeKind[] = ['liveness', 'readiness', 'startup'];

/** FSM's ports and paths for rewritten HTTP probes (constants.LivenessProbePort …). */
export const PROBE_PORTS: Readonly<Record<ProbeKind, number>> = { liveness: 15901, readiness: 15902, startup: 15903 };
export const PROBE_PATHS: Readonly<Record<ProbeKind, string>> = {
  liveness: '/fsm-liveness-probe',
  readiness: '/fsm-readiness-probe',
  startup: '/fsm-startup-probe',
};
/** FSM's TCP health check: an HTTP GET that asks for a TCP connect to the port in a header. */
export const HEALTHCHECK_PORT = 15904;
export const HEALTHCHECK_PATH = '/fsm-healthcheck';
export const ORIGINAL_TCP_PORT_HEADER = 'Original-Tcp-Port';

/** What the probe checked before it was rewritten, on the app's address. */
export type ProbeTarget =
  | { scheme: 'HTTP' | 'HTTPS'; port: number; path: string }
  | { scheme: 'TCP'; port: number };

export interface RewrittenProbe {
  kind: ProbeKind;
  /** the app container the probe belongs to */
  container: string;
  /** where the kubelet sends it now: a sidecar port and path */
  port: number;
  path: string;
  target: ProbeTarget;
  /** the probe's timeoutSeconds (the kubelet's default: 1) */
  timeoutSeconds: number;
}

function invalid(index: number, field: string, message: string): MeshError {
  const where = index < 0 ? '' : `[${index}]${field ? `.${field}` : ''}`;
  return new MeshError('MESH_ERR_MANIFEST_INVALID', `env ${HEALTH_PROBES_ENV}${where}: ${message}`, {
    problems: [{ resource: `env ${HEALTH_PROBES_ENV}`, field: where, message }],
  });
}

const isPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The probes in the env var's text; none when it is unset or empty. Throws MESH_ERR_MANIFEST_INVALID
 * naming the entry and field: a sidecar with a half-read probe list would answer probes wrongly.
 */
export function parseHealthProbes(text: string | undefined): RewrittenProbe[] {
  if (text === undefined || text.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalid(-1, '', `not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw invalid(-1, '', 'not a JSON array of probes');
  const seen = new Set<string>();
  return raw.map((entry, i): RewrittenProbe => {
    if (!isObject(entry)) throw invalid(i, '', 'not an object');
    const { kind, container, port, path, target, timeoutSeconds } = entry;
    if (!PROBE_KINDS.includes(kind as ProbeKind)) throw invalid(i, 'kind', `${JSON.stringify(kind)} is not one of ${PROBE_KINDS.join(', ')}`);
    if (typeof container !== 'string' || container === '') throw invalid(i, 'container', 'must be a container name');
    if (!isPort(port)) throw invalid(i, 'port', `${JSON.stringify(port)} is not a port`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw invalid(i, 'path', `${JSON.stringify(path)} is not an absolute path`);
    if (timeoutSeconds !== undefined && !(typeof timeoutSeconds === 'number' && timeoutSeconds > 0)) {
      throw invalid(i, 'timeoutSeconds', `${JSON.stringify(timeoutSeconds)} is not a positive number`);
    }
    if (!isObject(target)) throw invalid(i, 'target', 'must be an object');
    if (!isPort(target['port'])) throw invalid(i, 'target.port', `${JSON.stringify(target['port'])} is not a port`);
    let parsed: ProbeTarget;
    if (target['scheme'] === 'TCP') {
      parsed = { scheme: 'TCP', port: target['port'] };
    } else if (target['scheme'] === 'HTTP' || target['scheme'] === 'HTTPS') {
      const p = target['path'];
      if (typeof p !== 'string' || !p.startsWith('/')) throw invalid(i, 'target.path', `${JSON.stringify(p)} is not an absolute path`);
      parsed = { scheme: target['scheme'], port: target['port'], path: p };
    } else {
      throw invalid(i, 'target.scheme', `${JSON.stringify(target['scheme'])} is not HTTP, HTTPS or TCP`);
    }
    // Two HTTP probes at one port and path would be ambiguous; TCP checks are told apart by their header
    // (a liveness and a readiness probe of the same port are one check).
    if (parsed.scheme !== 'TCP') {
      const key = `${port} ${path}`;
      if (seen.has(key)) throw invalid(i, 'path', `a second probe at :${port}${path}`);
      seen.add(key);
    }
    return { kind: kind as ProbeKind, container, port, path, target: parsed, timeoutSeconds: (timeoutSeconds as number | undefined) ?? 1 };
  });
}

/** The env var's value for these probes (the injector's side). */
export function serializeHealthProbes(probes: readonly RewrittenProbe[]): string {
  return JSON.stringify(probes);
}
