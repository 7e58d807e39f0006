/** Tables of the core kinds other than Pod, as pkg/printers/internalversion prints them. */
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.js';
import { DOC } from './descriptions.js';
import { translateTimestampSince } from './duration.js';
import { type Obj, formatLabels, joinHostPort, mapLen, obj, objs, str, strs, num, arr } from './values.js';
import type { Printer } from './types.js';

const name = (o: Obj): string => str(obj(o, 'metadata'), 'name');
const age = (o: Obj, now: Date): string => translateTimestampSince(obj(o, 'metadata')['creationTimestamp'], now);

export const namespacePrinter: Printer = {
  columns: [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  // the API server sets Active on create
  row: (ns, now) => ({ cells: [name(ns), str(obj(ns, 'status'), 'phase') || 'Active', age(ns, now)] }),
};

/** Load-balancer ingress points: IPs or else hostnames, deduplicated and sorted (a Go string set). */
function loadBalancerIngress(svc: Obj): string[] {
  const points = new Set<string>();
  for (const ingress of objs(obj(svc, 'status', 'loadBalancer'), 'ingress')) {
    const point = str(ingress, 'ip') || str(ingress, 'hostname');
    if (point !== '') points.add(point);
  }
  return [...points].sort();
}

/** EXTERNAL-IP; never clipped to 16 characters because the server prints the wide form. */
function externalIP(svc: Obj, type: string): string {
  const spec = obj(svc, 'spec');
  const externalIPs = strs(spec, 'externalIPs');
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(svc);
      if (externalIPs.length > 0) return [...lb, ...externalIPs].join(',');
      return lb.length > 0 ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec, 'externalName');
    default:
      return '<unknown>';
  }
}

/** `80/TCP,443:30443/TCP`; the protocol defaults to TCP as the API server defaults it. */
function servicePorts(spec: Obj): string {
  const pieces = objs(spec, 'ports').map((p) => {
    const protocol = str(p, 'protocol') || 'TCP';
    const nodePort = num(p, 'nodePort');
    return nodePort > 0 ? `${num(p, 'port')}:${nodePort}/${protocol}` : `${num(p, 'port')}/${protocol}`;
  });
  return pieces.length > 0 ? pieces.join(',') : '<none>';
}

export const servicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', DOC.serviceType),
    column('Cluster-IP', 'string', DOC.clusterIP),
    column('External-IP', 'string', DOC.externalIPs),
    column('Port(s)', 'string', DOC.servicePorts),
    AGE_COLUMN,
    column('Selector', 'string', DOC.serviceSelector, 1),
  ],
  row: (svc, now) => {
    const spec = obj(svc, 'spec');
    const type = str(spec, 'type') || 'ClusterIP';
    // v1 clusterIP is authoritative over clusterIPs[0], as conversion to the internal type makes it
    const clusterIP = str(spec, 'clusterIP') || strs(spec, 'clusterIPs')[0] || '<none>';
    return {
      cells: [
        name(svc),
        type,
        clusterIP,
        externalIP(svc, type),
        servicePorts(spec),
        age(svc, now),
        formatLabels(obj(spec, 'selector')),
      ],
    };
  },
};

/** `formatEndpoints`: the first three ready ip:port pairs, then "+ N more...". */
export function formatEndpoints(endpoints: Obj): string {
  const subsets = objs(endpoints, 'subsets');
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const subset of subsets) {
    const addresses = objs(subset, 'addresses');
    const ports = objs(subset, 'ports');
    // a headless service without ports lists bare IPs
    const targets = ports.length === 0 ? [undefined] : ports.map((p) => num(p, 'port'));
    for (const port of targets) {
      count += addresses.length;
      for (const address of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(port === undefined ? str(address, 'ip') : joinHostPort(str(address, 'ip'), port));
      }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

export const endpointsPrinter: Printer = {
  columns: [NAME_COLUMN, column('Endpoints', 'string', DOC.endpointsSubsets), AGE_COLUMN],
  row: (ep, now) => ({ cells: [name(ep), formatEndpoints(ep), age(ep, now)] }),
};

export const configMapPrinter: Printer = {
  columns: [NAME_COLUMN, column('Data', 'string', DOC.configMapData), AGE_COLUMN],
  row: (cm, now) => ({ cells: [name(cm), mapLen(cm, 'data') + mapLen(cm, 'binaryData'), age(cm, now)] }),
};

export const secretPrinter: Printer = {
  columns: [NAME_COLUMN, column('Type', 'string', DOC.secretType), column('Data', 'string', DOC.secretData), AGE_COLUMN],
  // stringData is folded into data on write, so only data is counted; Opaque is the API default
  row: (secret, now) => ({ cells: [name(secret), str(secret, 'type') || 'Opaque', mapLen(secret, 'data'), age(secret, now)] }),
};

export const serviceAccountPrinter: Printer = {
  columns: [NAME_COLUMN, column('Secrets', 'string', DOC.serviceAccountSecrets), AGE_COLUMN],
  row: (sa, now) => ({ cells: [name(sa), arr(sa, 'secrets').length, age(sa, now)] }),
};
