/**
 * clientConfig.service on this server: kube-apiserver calls the Service (its cluster IP, or an
 * endpoint with aggregator routing); here the call goes to a ready address of the Service's Endpoints
 * (services are not routed on the host), with the TLS name `<service>.<namespace>.svc`.
 */
import type { KubeStorage } from '../apiserver/backend.js';
import type { ResolveService, ServiceEndpoint } from './call.js';
import { WebhookCallError } from './errors.js';
import type { ServiceReference } from './types.js';

interface ServicePort { name?: string; port?: number; targetPort?: number | string }
interface EndpointSubset { addresses?: { ip?: string }[]; ports?: { name?: string; port?: number }[] }

export function resolveServiceIn(storage: KubeStorage): ResolveService {
  return (ref: ServiceReference): ServiceEndpoint => {
    const unavailable = (why: string): WebhookCallError => new WebhookCallError('WEBHOOK_SERVICE_UNAVAILABLE', why);
    const svc = storage.get({ group: '', kind: 'Service', namespace: ref.namespace, name: ref.name });
    if (!svc) throw unavailable(`service "${ref.name}" not found`);
    const wanted = ref.port ?? 443;
    const ports = ((svc.spec as { ports?: ServicePort[] } | undefined)?.ports ?? []);
    const port = ports.find((p) => p.port === wanted);
    if (!port) throw unavailable(`service "${ref.namespace}/${ref.name}" has no port ${wanted}`);
    const endpoints = storage.get({ group: '', kind: 'Endpoints', namespace: ref.namespace, name: ref.name });
    const subsets = ((endpoints as { subsets?: EndpointSubset[] } | undefined)?.subsets ?? []);
    for (const s of subsets) {
      const target = (s.ports ?? []).find((p) => (port.name ? p.name === port.name : true) && (typeof port.targetPort !== 'number' || p.port === port.targetPort));
      const ip = (s.addresses ?? []).find((x) => x.ip)?.ip;
      if (target?.port && ip) return { host: ip, port: target.port, servername: `${ref.name}.${ref.namespace}.svc` };
    }
    throw unavailable(`no endpoints available for service "${ref.name}"`);
  };
}
