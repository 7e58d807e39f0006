/**
 * The install's values, named as FSM's Helm chart names them (charts/fsm/values.yaml: `fsm.meshName`,
 * `fsm.image.registry`, `fsm.certificateProvider.kind`…) where FSM has the setting, and the parsing of
 * `--set key=value` (Helm's syntax for scalars: true/false and integers are typed, anything else is a
 * string). `resolveValues` turns them into the names every manifest uses.
 */
import { isIP } from 'node:net';
import { MeshError } from '../lib/errors.js';

export interface InstallValues {
  fsm: {
    /** identifier of this mesh in the cluster (FSM default `fsm`; Tessera's `tessera`) */
    meshName: string;
    /** namespace of the control plane; empty means `<meshName>-system` */
    fsmNamespace: string;
    image: { registry: string; tag: string; pullPolicy: string };
    /** `tresor` only: the mesh's own CA, stored in the CA bundle Secret */
    certificateProvider: { kind: string };
    /** empty means `<meshName>-ca-bundle` */
    caBundleSecretName: string;
    enablePermissiveTrafficPolicy: boolean;
    enableEgress: boolean;
    /** the MutatingWebhookConfiguration is named `<prefix>-<meshName>`, as FSM names it */
    webhookConfigNamePrefix: string;
    /**
     * `extraAddresses`: Tessera's own. Extra names (IP addresses or DNS names) for the controller's
     * serving certificate `<mesh>-controller-tls`, besides its Service's names: for a controller
     * reached elsewhere, e.g. run as a process on the host beside `tessera node`, at
     * https://127.0.0.1:PORT. `tessera install --controller-address` appends to it.
     */
    fsmController: { replicaCount: number; extraAddresses: string[] };
    /**
     * `webhookURL`: Tessera's own. Empty (the default): the API server calls the injector's Service.
     * Set: the webhook's clientConfig is this `https://` URL instead (an injector outside the cluster,
     * e.g. a process beside a local API server); its certificate must name the URL's host.
     */
    injector: { replicaCount: number; webhookTimeoutSeconds: number; webhookURL: string };
    fsmBootstrap: { replicaCount: number };
    sidecar: { sidecarLogLevel: string };
    featureFlags: { enablePluginPolicy: boolean };
  };
}

/** The image tag installed by default: this release's version. */
export const DEFAULT_IMAGE_TAG = '0.1.0';
export const DEFAULT_MESH_NAME = 'tessera';

export function defaultValues(): InstallValues {
  return {
    fsm: {
      meshName: DEFAULT_MESH_NAME,
      fsmNamespace: '',
      image: { registry: 'tessera', tag: DEFAULT_IMAGE_TAG, pullPolicy: 'IfNotPresent' },
      certificateProvider: { kind: 'tresor' },
      caBundleSecretName: '',
      enablePermissiveTrafficPolicy: true,
      enableEgress: true,
      webhookConfigNamePrefix: 'tessera-webhook',
      fsmController: { replicaCount: 1, extraAddresses: [] },
      injector: { replicaCount: 1, webhookTimeoutSeconds: 20, webhookURL: '' },
      fsmBootstrap: { replicaCount: 1 },
      sidecar: { sidecarLogLevel: 'error' },
      featureFlags: { enablePluginPolicy: false },
    },
  };
}

export type ValueType = 'string' | 'number' | 'boolean' | 'list';

/** Every settable key (dotted path) with the type of its value (`list`: a list of strings). */
export function valueKeys(values: InstallValues = defaultValues()): Map<string, ValueType> {
  const out = new Map<string, ValueType>();
  const walk = (o: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (Array.isArray(v)) out.set(key, 'list');
      else if (v !== null && typeof v === 'object') walk(v as Record<string, unknown>, key);
      else out.set(key, typeof v as 'string' | 'number' | 'boolean');
    }
  };
  walk(values as unknown as Record<string, unknown>, '');
  return out;
}

/**
 * Applies one `key=value` (Helm's `--set` for a scalar) to a copy of `values`. A list takes Helm's
 * `key={a,b}` (or `key=a,b`): it replaces the list, as Helm's `--set` does.
 */
export function setValue(values: InstallValues, assignment: string): InstallValues {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new MeshError('MESH_ERR_USAGE', `--set ${assignment}: expected key=value`);
  const key = assignment.slice(0, eq).trim();
  const raw = assignment.slice(eq + 1);
  const type = valueKeys().get(key);
  if (!type) {
    const known = [...valueKeys().keys()].join(', ');
    throw new MeshError('MESH_ERR_USAGE', `--set ${key}: unknown value (known: ${known})`);
  }
  let value: string | number | boolean | string[] = raw;
  if (type === 'list') {
    value = raw.replace(/^\{(.*)\}$/s, '$1').split(',').map((x) => x.trim()).filter((x) => x !== '');
  } else if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new MeshError('MESH_ERR_USAGE', `--set ${key}: expected true or false, got "${raw}"`);
    value = raw === 'true';
  } else if (type === 'number') {
    if (!/^\d+$/.test(raw)) throw new MeshError('MESH_ERR_USAGE', `--set ${key}: expected a non-negative integer, got "${raw}"`);
    value = Number(raw);
  }
  const out = structuredClone(values);
  const path = key.split('.');
  let node = out as unknown as Record<string, unknown>;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
  return out;
}

/** The names and settings the manifests are rendered from (the chart computes the same in _helpers.tpl). */
export interface Resolved {
  mesh: string;
  namespace: string;
  caBundleSecretName: string;
  registry: string;
  tag: string;
  pullPolicy: string;
  permissive: boolean;
  egress: boolean;
  pluginPolicy: boolean;
  sidecarLogLevel: string;
  controllerReplicas: number;
  /** fsm.fsmController.extraAddresses: extra names of the controller's serving certificate */
  controllerExtraAddresses: string[];
  injectorReplicas: number;
  bootstrapReplicas: number;
  webhookTimeoutSeconds: number;
  webhookConfigNamePrefix: string;
  /** '' → the injector's Service */
  webhookURL: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks the values and derives the names; throws MESH_ERR_USAGE on what cannot be installed. */
export function resolveValues(values: InstallValues): Resolved {
  const f = values.fsm;
  const problems: string[] = [];
  // `<mesh>-controller-token` and the like must stay valid names (63 characters at most).
  if (!DNS_LABEL.test(f.meshName) || f.meshName.length > 40) problems.push(`fsm.meshName "${f.meshName}" must be a DNS label of at most 40 characters`);
  const namespace = f.fsmNamespace || `${f.meshName}-system`;
  // The components find their preset MeshConfig and CA in `<mesh>-system` (bootstrap/preset-mesh-config.ts).
  if (namespace !== `${f.meshName}-system`) problems.push(`fsm.fsmNamespace "${f.fsmNamespace}": Tessera's components run in "${f.meshName}-system" only`);
  if (f.certificateProvider.kind !== 'tresor') problems.push(`fsm.certificateProvider.kind "${f.certificateProvider.kind}": only "tresor" (the mesh's own CA) is supported`);
  if (!['Always', 'IfNotPresent', 'Never'].includes(f.image.pullPolicy)) problems.push(`fsm.image.pullPolicy "${f.image.pullPolicy}": expected Always, IfNotPresent or Never`);
  if (f.injector.webhookTimeoutSeconds < 1 || f.injector.webhookTimeoutSeconds > 30) problems.push('fsm.injector.webhookTimeoutSeconds must be between 1 and 30');
  if (f.injector.webhookURL !== '') {
    const why = webhookUrlProblem(f.injector.webhookURL);
    if (why) problems.push(`fsm.injector.webhookURL "${f.injector.webhookURL}": ${why}`);
  }
  for (const a of f.fsmController.extraAddresses) {
    if (addressProblem(a)) problems.push(`fsm.fsmController.extraAddresses "${a}": ${addressProblem(a)}`);
  }
  if (problems.length > 0) throw new MeshError('MESH_ERR_USAGE', problems.join('\n'));
  return {
    mesh: f.meshName,
    namespace,
    caBundleSecretName: f.caBundleSecretName || `${f.meshName}-ca-bundle`,
    registry: f.image.registry,
    tag: f.image.tag,
    pullPolicy: f.image.pullPolicy,
    permissive: f.enablePermissiveTrafficPolicy,
    egress: f.enableEgress,
    pluginPolicy: f.featureFlags.enablePluginPolicy,
    sidecarLogLevel: f.sidecar.sidecarLogLevel,
    controllerReplicas: f.fsmController.replicaCount,
    controllerExtraAddresses: [...f.fsmController.extraAddresses],
    injectorReplicas: f.injector.replicaCount,
    bootstrapReplicas: f.fsmBootstrap.replicaCount,
    webhookTimeoutSeconds: f.injector.webhookTimeoutSeconds,
    webhookConfigNamePrefix: f.webhookConfigNamePrefix,
    webhookURL: f.injector.webhookURL,
  };
}

/** What the API server requires of a webhook URL (admissionregistration validation), or undefined. */
export function webhookUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'https:') return 'the API server calls webhooks over https only';
  if (u.username || u.password) return 'no user or password in the URL';
  if (u.search || u.hash) return 'no query or fragment';
  return undefined;
}

/** Why `raw` cannot be a name of a serving certificate (an IP address, `[IPv6]`, or a DNS name), or undefined. */
export function addressProblem(raw: string): string | undefined {
  const host = unbracket(raw);
  if (isIP(host)) return undefined;
  if (/^[\d.]+$/.test(host) || host.includes(':')) return 'not an IP address';
  if (!/^(?=.{1,253}$)[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$/.test(host)) return 'not an IP address or DNS name';
  return undefined;
}

const unbracket = (raw: string): string => raw.trim().replace(/^\[|\]$/g, '');

/**
 * The host names and IP addresses the controller's serving certificate `<mesh>-controller-tls` must
 * carry: its Service's names, and `extra` (fsm.fsmController.extraAddresses; IPs apart from DNS names).
 * The chart's header computes the same.
 */
export function controllerServingNames(r: Pick<Resolved, 'mesh' | 'namespace'>, extra: string[] = []): { dns: string[]; ips: string[] } {
  const svc = `${r.mesh}-controller`;
  const dns = [svc, `${svc}.${r.namespace}`, `${svc}.${r.namespace}.svc`, `${svc}.${r.namespace}.svc.cluster.local`];
  const ips: string[] = [];
  for (const raw of extra) {
    const host = unbracket(raw);
    if (!host) continue;
    if (/^[\d.]+$/.test(host) || host.includes(':')) {
      if (!ips.includes(host)) ips.push(host);
    } else if (!dns.includes(host)) dns.push(host);
  }
  return { dns, ips };
}

/** The host names and IP addresses the injector's serving certificate must carry for `r` (the Service's names, and the webhook URL's host when set). */
export function injectorServingNames(r: Pick<Resolved, 'mesh' | 'namespace' | 'webhookURL'>): { dns: string[]; ips: string[] } {
  const svc = `${r.mesh}-injector`;
  const dns = [svc, `${svc}.${r.namespace}`, `${svc}.${r.namespace}.svc`, `${svc}.${r.namespace}.svc.cluster.local`];
  const ips: string[] = [];
  if (r.webhookURL) {
    const host = new URL(r.webhookURL).hostname.replace(/^\[|\]$/g, '');
    if (/^[\d.]+$/.test(host) || host.includes(':')) ips.push(host);
    else if (!dns.includes(host)) dns.push(host);
  }
  return { dns, ips };
}
