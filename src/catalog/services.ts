/** Turns a Service and the pods it selects into mesh service ports: protocol, targetPort and ready endpoints. */
import type { Pod, Service, ServicePort } from '../api/types.js';
import type { AppProtocol, ServiceEndpoint, ServiceInfo, ServicePortInfo, UdpPortInfo } from './types.js';
import { byString, isPodReady, isPodTerminated, namedContainerPort, podIP, podKey } from './pods.js';

/**
 * The application protocol of a Service port, FSM's order: `appProtocol`, then the port-name prefix
 * (`http-`, `tcp-`, `grpc-`; `tcp-server-first-` is tcp), else http. `grpc` means the app speaks
 * HTTP/2 in cleartext, so `appProtocol` `h2c`/`http2`/`kubernetes.io/h2c` and the names `http2-`/`h2c-`
 * (Istio's) map to it; `grpc-web` is HTTP/1.1.
 *
 * Two choices of ours: a name that is exactly `http`, `tcp` or `grpc` counts like its prefix form (as
 * Istio's `<protocol>[-<suffix>]` convention does); and an `appProtocol` we do not know is treated as
 * opaque tcp (as Istio does) rather than passed through as FSM does, where it would match no chain.
 */
export function detectProtocol(port: ServicePort): AppProtocol {
  if (port.appProtocol) {
    const ap = port.appProtocol.toLowerCase();
    if (ap === 'http' || ap === 'grpc' || ap === 'tcp') return ap;
    // HTTP/2 in cleartext to the app: carried as gRPC is (the sidecar speaks h2c to the port)
    if (ap === 'h2c' || ap === 'http2' || ap === 'kubernetes.io/h2c' || ap === 'grpc-web') return ap === 'grpc-web' ? 'http' : 'grpc';
    if (ap === 'tcp-server-first') return 'tcp';
    return 'tcp';
  }
  const name = (port.name ?? '').toLowerCase();
  const is = (p: string) => name === p || name.startsWith(`${p}-`);
  if (is('tcp-server-first') || is('tcp')) return 'tcp';
  if (is('grpc') || is('http2') || is('h2c')) return 'grpc';
  return 'http';
}

/** Only TCP ports are meshed (proxied); UDP ports are only filtered by SMI UDPRoutes (`udpPorts`), SCTP is skipped. */
export function isMeshablePort(port: ServicePort): boolean {
  return (port.protocol ?? 'TCP') === 'TCP';
}

/** The targetPort's name when the Service refers to a named container port, else undefined. */
export function targetPortName(port: ServicePort): string | undefined {
  const tp = port.targetPort;
  return typeof tp === 'string' && tp !== '' && !/^\d+$/.test(tp) ? tp : undefined;
}

/** The numeric targetPort; an absent targetPort means the service port itself, as in Kubernetes. */
function numericTargetPort(port: ServicePort): number {
  const tp = port.targetPort;
  if (tp === undefined || tp === '') return port.port;
  return typeof tp === 'number' ? tp : Number(tp);
}

/** The number `pod` listens on for this Service port, or undefined when a named targetPort is not declared by it. */
export function targetPortForPod(port: ServicePort, pod: Pod): number | undefined {
  const name = targetPortName(port);
  return name === undefined ? numericTargetPort(port) : namedContainerPort(pod, name);
}

/**
 * A named targetPort as a single number: that of the first selected pod (by name) that declares it.
 * Endpoints resolve the name per pod, since the pods of one Service may disagree.
 */
function firstDeclaredPort(selected: readonly Pod[], name: string): number | undefined {
  for (const pod of selected) {
    const port = namedContainerPort(pod, name);
    if (port !== undefined) return port;
  }
  return undefined;
}

function compareEndpoints(a: ServiceEndpoint, b: ServiceEndpoint): number {
  return byString(a.ip, b.ip) || a.port - b.port || byString(a.podName, b.podName);
}

/**
 * Builds the catalog view of one Service. `selected` are the pods its selector matches in its own
 * namespace, sorted by name; only ready pods with an IP become endpoints.
 */
export function buildServiceInfo(svc: Service, selected: readonly Pod[], meshed: boolean): ServiceInfo {
  const namespace = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name;
  const clusterIP = svc.spec?.clusterIP;
  const ready = selected.filter((p) => isPodReady(p) && !isPodTerminated(p) && podIP(p) !== undefined);
  const ports: ServicePortInfo[] = [];
  const udpPorts: UdpPortInfo[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    if (sp.protocol === 'UDP') udpPorts.push(udpPortInfo(sp));
    if (!isMeshablePort(sp)) continue;
    const endpoints: ServiceEndpoint[] = [];
    for (const pod of ready) {
      const port = targetPortForPod(sp, pod);
      if (port !== undefined) endpoints.push({ podName: pod.metadata.name, ip: podIP(pod)!, port });
    }
    endpoints.sort(compareEndpoints);
    const named = targetPortName(sp);
    const targetPort = named === undefined ? numericTargetPort(sp) : firstDeclaredPort(selected, named);
    const info: ServicePortInfo = { namespace, name, port: sp.port, targetPort, protocol: detectProtocol(sp), endpoints };
    if (named !== undefined) info.targetPortName = named;
    ports.push(info);
  }
  const out: ServiceInfo = { namespace, name, meshed, ports, udpPorts, selectedPods: selected.map(podKey) };
  if (clusterIP && clusterIP !== 'None') out.clusterIP = clusterIP;
  return out;
}

function udpPortInfo(sp: ServicePort): UdpPortInfo {
  const named = targetPortName(sp);
  return named === undefined ? { port: sp.port, targetPort: numericTargetPort(sp) } : { port: sp.port, targetPort: undefined, targetPortName: named };
}

/** The port `pod` receives a UDP Service port on (a named targetPort resolves through its UDP containerPorts). */
export function udpTargetPortOnPod(port: UdpPortInfo, pod: Pod): number | undefined {
  return port.targetPortName === undefined ? port.targetPort : namedContainerPort(pod, port.targetPortName, 'UDP');
}

/** The port `pod` serves a Service port on (a named targetPort resolves through that pod's own containers). */
export function targetPortOnPod(port: ServicePortInfo, pod: Pod): number | undefined {
  return port.targetPortName === undefined ? port.targetPort : namedContainerPort(pod, port.targetPortName);
}
