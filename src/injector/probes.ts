/**
 * Probe rewriting, as FSM's webhook does it (pkg/injector/health_probes.go): with interception on,
 * the kubelet's probe to an app port on the pod IP would land in the sidecar's inbound listener and be
 * refused there (no client certificate), so the app containers' probes are sent to the sidecar instead:
 *
 *  * an HTTP(S) GET probe → HTTP GET on the sidecar's 15901/15902/15903 (liveness/readiness/startup)
 *    at `/fsm-liveness-probe` … — the sidecar sends it on to the original port, path and scheme;
 *  * a TCP probe → HTTP GET on 15904 `/fsm-healthcheck` with the original port in `Original-Tcp-Port`;
 *  * exec and gRPC probes, and probes with their own `host` (they do not go to the pod), are left alone.
 *
 * Where Tessera differs from FSM, and why:
 *  * FSM keeps one original per probe kind (the last container's), so two containers with a readiness
 *    probe would both be checked against one target; here each container keeps its own: when more than
 *    one container has an HTTP probe of a kind, each gets the path `/fsm-<kind>-probe/<container>`.
 *  * FSM turns an HTTPS probe into a TCP check; the sidecar here sends it on as HTTPS.
 *  * FSM rewrites a probe on a named port its container does not declare to port 80 (443, 0) after
 *    logging the error, which probes something else than the pod asked for; here the pod is refused,
 *    naming the probe, as the kubelet would never be able to resolve that port either.
 * The originals reach the sidecar in its env (health-probes/config.ts).
 */
import type { Container, Probe } from '../api/types.js';
import type { FieldProblem } from '../lib/errors.js';
import {
  HEALTHCHECK_PATH, HEALTHCHECK_PORT, ORIGINAL_TCP_PORT_HEADER, PROBE_KINDS, PROBE_PATHS, PROBE_PORTS,
  type ProbeKind, type RewrittenProbe,
} from '../sidecar/health-probes/config.js';

const FIELD: Readonly<Record<ProbeKind, 'livenessProbe' | 'readinessProbe' | 'startupProbe'>> = {
  liveness: 'livenessProbe',
  readiness: 'readinessProbe',
  startup: 'startupProbe',
};

/** A probe's port as a number: numeric, or the container's port of that name (as the kubelet resolves it). */
function resolvePort(port: number | string, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^[0-9]+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

interface Candidate {
  index: number;
  kind: ProbeKind;
  probe: Probe;
  port: number;
}

/**
 * Rewrites the probes of `containers` (the app containers, modified in place) and returns what the
 * sidecar must serve. A probe that cannot be rewritten is added to `problems` (field paths relative to
 * the pod) and left as it was.
 */
export function rewriteProbes(containers: Container[], resource: string, problems: FieldProblem[]): RewrittenProbe[] {
  const http: Candidate[] = [];
  const tcp: Candidate[] = [];
  containers.forEach((container, index) => {
    for (const kind of PROBE_KINDS) {
      const probe = container[FIELD[kind]];
      const action = probe?.httpGet ?? probe?.tcpSocket;
      if (!probe || !action || action.host) continue;
      const port = resolvePort(action.port, container);
      const field = `spec.containers[${index}].${FIELD[kind]}.${probe.httpGet ? 'httpGet' : 'tcpSocket'}.port`;
      if (port === undefined) {
        problems.push({ resource, field, message: `named port "${action.port}" is not declared in the ports of container ${container.name}` });
        continue;
      }
      if (port < 1 || port > 65535) {
        problems.push({ resource, field, message: `${port} is not a port (1..65535)` });
        continue;
      }
      (probe.httpGet ? http : tcp).push({ index, kind, probe, port });
    }
  });

  const out: RewrittenProbe[] = [];
  for (const c of http) {
    const container = containers[c.index]!;
    const get = c.probe.httpGet!;
    const shared = http.filter((o) => o.kind === c.kind).length > 1;
    const path = shared ? `${PROBE_PATHS[c.kind]}/${container.name}` : PROBE_PATHS[c.kind];
    const original = get.path ?? '/';
    out.push({
      kind: c.kind, container: container.name, port: PROBE_PORTS[c.kind], path,
      target: { scheme: get.scheme?.toUpperCase() === 'HTTPS' ? 'HTTPS' : 'HTTP', port: c.port, path: original.startsWith('/') ? original : `/${original}` },
      timeoutSeconds: c.probe.timeoutSeconds ?? 1,
    });
    // the sidecar's probe ports speak plain HTTP; the probe's own headers go on to the app
    c.probe.httpGet = { ...get, port: PROBE_PORTS[c.kind], path, scheme: 'HTTP' };
  }
  for (const c of tcp) {
    const container = containers[c.index]!;
    out.push({
      kind: c.kind, container: container.name, port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH,
      target: { scheme: 'TCP', port: c.port }, timeoutSeconds: c.probe.timeoutSeconds ?? 1,
    });
    delete c.probe.tcpSocket;
    c.probe.httpGet = { port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH, scheme: 'HTTP', httpHeaders: [{ name: ORIGINAL_TCP_PORT_HEADER, value: String(c.port) }] };
  }
  return out;
}
