/**
 * Seed 003's SMI examples (the L7 and L4 "Example implementation" blocks) read from the seed text as
 * written, with the apiVersions the seed leaves out added, plus the worlds the tests compile them in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '../../api/types.js';
import { validateDocuments } from '../../api/validation/index.js';
import { parseManifests } from '../../manifest/index.js';
import { meshConfig, meshedNamespace, pod, service } from './builders.js';
import { repoRoot } from './golden.js';

const SEED = join(repoRoot(), '..', 'shared', 'seeds', '003_cc9440569c50453b.txt');

const API_VERSIONS: Record<string, string> = {
  TrafficTarget: 'access.smi-spec.io/v1alpha3',
  HTTPRouteGroup: 'specs.smi-spec.io/v1alpha4',
  TCPRoute: 'specs.smi-spec.io/v1alpha4',
  UDPRoute: 'specs.smi-spec.io/v1alpha4',
};

/** The YAML of one example: from its first `kind:` line to the prose after it, with apiVersions added. */
export function seedExampleYaml(example: 'L7' | 'L4'): string {
  const lines = readFileSync(SEED, 'utf8').split('\n');
  const heading = lines.indexOf(`Example implementation for ${example}`);
  if (heading < 0) throw new Error(`seed 003: no "Example implementation for ${example}"`);
  const start = lines.findIndex((l, i) => i > heading && l.startsWith('kind:'));
  const end = lines.findIndex((l, i) => i > start && /^(The previous example|Above configuration)/.test(l));
  return lines
    .slice(start, end)
    .flatMap((l) => {
      const kind = /^kind: (\w+)$/.exec(l)?.[1];
      return kind && API_VERSIONS[kind] ? [`apiVersion: ${API_VERSIONS[kind]}`, l] : [l];
    })
    .join('\n')
    .trimEnd();
}

/** The example's resources, validated as `tessera apply -f` would store them (namespace `default`). */
export function seedExampleResources(example: 'L7' | 'L4'): Resource[] {
  return validateDocuments(parseManifests(seedExampleYaml(example), `seed-003-${example}`));
}

export const PERMISSIVE_OFF = meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: false } });

/** The four L7 workloads: name, service account, pod IP; each serves http on 8080 behind a Service of its name. */
export const L7_WORKLOADS = [
  { name: 'api', sa: 'api-service', ip: '10.1.0.1' },
  { name: 'website', sa: 'website-service', ip: '10.1.0.2' },
  { name: 'payments', sa: 'payments-service', ip: '10.1.0.3' },
  { name: 'prometheus', sa: 'prometheus', ip: '10.1.0.4' },
] as const;

export const l7Pod = (name: string) => ({ namespace: 'default', name: `${name}-1` });

export function l7World(policies: Resource[] = seedExampleResources('L7')): Resource[] {
  const world: Resource[] = [PERMISSIVE_OFF, meshedNamespace('default')];
  L7_WORKLOADS.forEach((w, i) => {
    world.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: w.sa, namespace: 'default' } },
      pod('default', `${w.name}-1`, { labels: { app: w.name }, serviceAccount: w.sa, ip: w.ip }),
      service('default', w.name, [{ name: 'http', port: 8080 }], { app: w.name }, `10.96.1.${i + 1}`),
    );
  });
  return [...world, ...policies];
}

export const L4_SERVER = { namespace: 'default', name: 'server-1' };
export const L4_CLIENT = { namespace: 'default', name: 'client-1' };

/** The L4 example's server (TCP and UDP on 8300–8302) and client. */
export function l4World(policies: Resource[] = seedExampleResources('L4')): Resource[] {
  const ports = [8300, 8301, 8302].flatMap((p) => [
    { name: `tcp-${p}`, port: p, protocol: 'TCP' as const },
    { name: `udp-${p}`, port: p, protocol: 'UDP' as const },
  ]);
  return [
    PERMISSIVE_OFF,
    meshedNamespace('default'),
    pod('default', 'server-1', { labels: { app: 'server' }, serviceAccount: 'server', ip: '10.2.0.1' }),
    pod('default', 'client-1', { labels: { app: 'client' }, serviceAccount: 'client', ip: '10.2.0.2' }),
    service('default', 'server', ports, { app: 'server' }, '10.96.2.1'),
    ...policies,
  ];
}
