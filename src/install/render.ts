/**
 * `renderInstall(values, secrets)`: every object `tessera install` creates on a cluster, as plain
 * data (no I/O; the command generates the CA and keys and passes them in as `secrets`). The Helm
 * chart in charts/tessera is generated from the same functions (src/install/chart.ts), so the two
 * cannot drift apart.
 */
import { KINDS } from '../api/kinds.js';
import { MONITORED_BY_LABEL } from '../api/types.js';
import { presetMeshConfig } from '../bootstrap/preset-mesh-config.js';
import { ACCESS_CERT_OWNER_ANNOTATION } from '../control-plane/access-certs.js';
import { CA_SECRET_KEYS, caBundleSecretName } from '../identity/ca-secret.js';
import { INJECTOR_KUBE_ENV } from '../injector/kube-namespaces.js';
import { caRootConfigMapName } from '../sidecar/config/cluster-bootstrap.js';
import { MUTATE_PATH, HEALTH_PATH } from '../injector/protocol.js';
import { IGNORE_NAMESPACE_LABEL } from '../local/controllers/well-known.js';
import { BOOTSTRAP_ENV, BOOTSTRAP_PORT, CONTROLLER_ENV, CONTROLLER_PORT, INJECTOR_ENV, INJECTOR_PORT } from '../local/layout.js';
import { renderCrds } from './crds.js';
import { apiGroupOf, sortForInstall, type Manifest } from './manifest.js';
import { defaultValues, resolveValues, type InstallValues, type Resolved } from './values.js';

/** Secret material, base64 as it goes into `data` (the command generates it; tests pass placeholders). */
export interface InstallSecrets {
  /** the mesh root CA: certificate, private key and Tresor's `expiration` */
  caCert: string;
  caKey: string;
  caExpiration: string;
  /** the injector's serving certificate, issued by the mesh CA for `<mesh>-injector.<ns>.svc` */
  injectorCert: string;
  injectorKey: string;
  /**
   * the controller's serving certificate (delivery to sidecars, which verify it with the mesh CA),
   * issued by the mesh CA for `<mesh>-controller.<ns>.svc` and fsm.fsmController.extraAddresses
   */
  controllerCert: string;
  controllerKey: string;
  /** hex key the controller checks proxy tokens with */
  meshKey: string;
  /** the bearer token the injector's server asks of its callers */
  webhookToken: string;
}

export const PLACEHOLDER_SECRETS: InstallSecrets = {
  caCert: '', caKey: '', caExpiration: '', injectorCert: '', injectorKey: '', controllerCert: '', controllerKey: '', meshKey: '', webhookToken: '',
};

/** FSM's name for the pod-injection webhook inside the configuration (pkg/injector/webhook.go). */
export const MUTATING_WEBHOOK_NAME = 'fsm-inject.k8s.io';
/** Where the ServiceAccount's CA certificate is mounted in every pod. */
export const IN_CLUSTER_CA_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';
export const IN_CLUSTER_API_URL = 'https://kubernetes.default.svc';
/** The ServiceAccount's projected token, beside the CA. */
export const IN_CLUSTER_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const STATE_DIR = '/var/lib/tessera';
const TLS_DIR = '/etc/tessera/tls';

export const componentName = (mesh: string, component: Component): string => `${mesh}-${component}`;
export type Component = 'controller' | 'injector' | 'bootstrap';
export const webhookConfigName = (r: Pick<Resolved, 'webhookConfigNamePrefix' | 'mesh'>): string => `${r.webhookConfigNamePrefix}-${r.mesh}`;
export const meshKeySecretName = (mesh: string): string => `${mesh}-mesh-key`;
export const injectorTlsSecretName = (mesh: string): string => `${mesh}-injector-tls`;
export const controllerTlsSecretName = (mesh: string): string => `${mesh}-controller-tls`;
export const tokenSecretName = (mesh: string, component: Component): string => `${mesh}-${component}-token`;

function instanceLabels(r: Resolved): Record<string, string> {
  return { 'app.kubernetes.io/name': 'tessera', 'app.kubernetes.io/instance': r.mesh, 'app.kubernetes.io/part-of': 'tessera' };
}

function componentLabels(r: Resolved, component: Component): Record<string, string> {
  return { app: componentName(r.mesh, component), ...instanceLabels(r), 'app.kubernetes.io/component': component };
}

// ---------------------------------------------------------------------------------------------
// RBAC, derived from what the components do (see docs/kubernetes.md for the list)

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const READ = ['get', 'list', 'watch'];

/**
 * The controller lists and watches every kind Tessera understands (control-plane/watch.ts lists
 * KINDS, cluster-wide), plus Endpoints and EndpointSlices for the informers of issue #14.
 */
export function controllerReadRules(): PolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  const add = (group: string, plural: string): void => void (byGroup.get(group) ?? byGroup.set(group, new Set()).get(group)!).add(plural);
  for (const k of KINDS) add(apiGroupOf(k.apiVersion), k.plural);
  add('', 'endpoints');
  add('discovery.k8s.io', 'endpointslices');
  return [...byGroup]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, plurals]) => ({ apiGroups: [group], resources: [...plurals].sort(), verbs: READ }));
}

function rbac(r: Resolved): Manifest[] {
  const ns = r.namespace;
  const sa = (c: Component) => ({ kind: 'ServiceAccount', name: componentName(r.mesh, c), namespace: ns });
  const clusterRole = (c: Component, rules: PolicyRule[]): Manifest[] => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: componentName(r.mesh, c), labels: componentLabels(r, c) }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: componentName(r.mesh, c), labels: componentLabels(r, c) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: componentName(r.mesh, c) }, subjects: [sa(c)],
    },
  ];
  const role = (c: Component, rules: PolicyRule[]): Manifest[] => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: componentName(r.mesh, c), namespace: ns, labels: componentLabels(r, c) }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: componentName(r.mesh, c), namespace: ns, labels: componentLabels(r, c) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: componentName(r.mesh, c) }, subjects: [sa(c)],
    },
  ];
  return [
    ...clusterRole('controller', [
      ...controllerReadRules(),
      // AccessCert Secrets go to the AccessCert's namespace (control-plane/access-certs.ts: apply,
      // delete); the CA bundle Secret is created once (control-plane/identity.ts).
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'update', 'delete'] },
      // AccessControl status, through the status subresource only (control-plane/status.ts: a PUT of
      // `<object>/status` with the resourceVersion read; KubeMeshApi.replaceStatus). Nothing else of
      // an AccessControl is written, and no other kind's status.
      { apiGroups: ['policy.flomesh.io'], resources: ['accesscontrols/status'], verbs: ['update'] },
      // The mesh CA ConfigMap in every monitored namespace (control-plane/ca-root-configmaps.ts),
      // written with server-side apply: kube-apiserver authorizes that create with the object's name,
      // so this one name is all the controller may create, patch or delete outside its namespace.
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'patch', 'delete'], resourceNames: [caRootConfigMapName(r.mesh)] },
      // Sidecars' ServiceAccount tokens (control-plane/sa-tokens.ts), as system:auth-delegator grants.
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    ]),
    // The trust-bundle ConfigMap lives in the mesh's namespace (control-plane/identity.ts).
    // and so does the leader election Lease `<mesh>-controller` (control-plane/leader.ts).
    ...role('controller', [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'update'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]),
    // FSM's handler looks up the pod's namespace (its annotations decide injection).
    ...clusterRole('injector', [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }]),
    // The preset MeshConfig, put back when deleted (bootstrap/preset-keeper.ts: get, apply).
    ...role('bootstrap', [{ apiGroups: ['config.flomesh.io'], resources: ['meshconfigs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }]),
  ];
}

/**
 * The components' RBAC rules as a Markdown table (docs/kubernetes.md carries it between
 * `<!-- rbac:begin -->` and `<!-- rbac:end -->`; src/install/install.test.ts checks it is this).
 */
export function rbacTable(values: InstallValues = defaultValues()): string {
  const r = resolveValues(values);
  const rows = ['| component | granted by | API group | resources | verbs |', '|---|---|---|---|---|'];
  for (const m of rbac(r)) {
    if (m.kind !== 'ClusterRole' && m.kind !== 'Role') continue;
    const component = (m.metadata.labels ?? {})['app.kubernetes.io/component'];
    const where = m.kind === 'Role' ? `Role in \`${m.metadata.namespace}\`` : 'ClusterRole';
    for (const rule of m.rules as PolicyRule[]) {
      const groups = rule.apiGroups.map((g) => (g === '' ? 'core' : `\`${g}\``)).join(', ');
      const names = rule.resourceNames ? ` (only ${rule.resourceNames.map((n) => `\`${n}\``).join(', ')})` : '';
      rows.push(`| ${component} | ${where} | ${groups} | ${rule.resources.map((x) => `\`${x}\``).join(', ')}${names} | ${rule.verbs.join(', ')} |`);
    }
  }
  return rows.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// The controller's Secrets: what RBAC cannot say, a ValidatingAdmissionPolicy says

export const controllerSecretPolicyName = (mesh: string): string => `${mesh}-controller-secrets`;

/** The message the API server returns when the policy refuses a write (after its own prefix). */
export const CONTROLLER_SECRET_POLICY_MESSAGE =
  'the mesh controller may write only the Secrets it issues (AccessCert Secrets, the CA bundle), not this one';

/**
 * The controller's role must let it create, update and delete Secrets in any namespace (an AccessCert
 * names where its Secret goes). What local mode's admission enforces (src/local/kube/secret-ownership.ts)
 * is said here in CEL for the API server's ValidatingAdmissionPolicy plugin (admissionregistration.k8s.io/v1,
 * Kubernetes ≥ 1.30): for the controller's ServiceAccount only, a Secret is its own when it is the CA
 * bundle `<mesh>-ca-bundle` in `<mesh>-system` or carries the AccessCert owner annotation; a CREATE
 * must make its own Secret, an UPDATE must find one of its own and leave it its own (adding the
 * annotation takes nothing over), a DELETE must find one of its own.
 */
function controllerSecretPolicy(r: Resolved): Manifest[] {
  const name = controllerSecretPolicyName(r.mesh);
  const labels = componentLabels(r, 'controller');
  const user = `system:serviceaccount:${r.namespace}:${componentName(r.mesh, 'controller')}`;
  const own = (o: 'object' | 'oldObject'): string =>
    `${o} != null && ((request.namespace == '${r.namespace}' && ${o}.metadata.name == '${caBundleSecretName(r.mesh)}') || ` +
    `(has(${o}.metadata.annotations) && '${ACCESS_CERT_OWNER_ANNOTATION}' in ${o}.metadata.annotations))`;
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, labels },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['secrets'], operations: ['CREATE', 'UPDATE', 'DELETE'] }],
        },
        matchConditions: [{ name: 'mesh-controller', expression: `request.userInfo.username == '${user}'` }],
        variables: [
          { name: 'ownNew', expression: own('object') },
          { name: 'ownOld', expression: own('oldObject') },
        ],
        validations: [
          {
            expression: "request.operation == 'CREATE' ? variables.ownNew : variables.ownOld && (request.operation == 'DELETE' || variables.ownNew)",
            message: CONTROLLER_SECRET_POLICY_MESSAGE,
            reason: 'Forbidden',
          },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, labels },
      spec: { policyName: name, validationActions: ['Deny'] },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Workloads

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

const fromSecret = (name: string, secret: string, key: string): EnvVar => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });

function deployment(
  r: Resolved,
  c: Component,
  spec: { replicas: number; port: number; scheme: 'HTTP' | 'HTTPS'; env: EnvVar[]; volumes?: unknown[]; mounts?: unknown[] },
): Manifest {
  const labels = componentLabels(r, c);
  const probe = (period: number, failures: number) => ({
    httpGet: { path: HEALTH_PATH, port: spec.port, scheme: spec.scheme }, periodSeconds: period, timeoutSeconds: 2, failureThreshold: failures,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: componentName(r.mesh, c), namespace: r.namespace, labels },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { app: componentName(r.mesh, c) } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: componentName(r.mesh, c),
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: c,
              image: `${r.registry}/tessera-${c}:${r.tag}`,
              imagePullPolicy: r.pullPolicy,
              ports: [{ name: c === 'injector' ? 'webhook' : 'http', containerPort: spec.port }],
              env: spec.env,
              readinessProbe: probe(5, 3),
              livenessProbe: probe(10, 6),
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              ...(spec.mounts ? { volumeMounts: spec.mounts } : {}),
            },
          ],
          ...(spec.volumes ? { volumes: spec.volumes } : {}),
        },
      },
    },
  };
}

function workloads(r: Resolved): Manifest[] {
  const ns = r.namespace;
  const service = (c: Component, port: number): Manifest => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: componentName(r.mesh, c), namespace: ns, labels: componentLabels(r, c) },
    spec: { selector: { app: componentName(r.mesh, c) }, ports: [{ name: c === 'injector' ? 'webhook' : 'http', port, targetPort: port, protocol: 'TCP' }] },
  });
  const apiAccess = (env: typeof CONTROLLER_ENV | typeof BOOTSTRAP_ENV, c: Component): EnvVar[] => [
    { name: env.apiUrl, value: IN_CLUSTER_API_URL },
    { name: env.apiCa, value: IN_CLUSTER_CA_FILE },
    // The ServiceAccount's token, from its token Secret (the components read a token, not a file).
    fromSecret(env.apiToken, tokenSecretName(r.mesh, c), 'token'),
    { name: env.meshName, value: r.mesh },
  ];
  const state = { volumes: [{ name: 'state', emptyDir: {} }], mounts: [{ name: 'state', mountPath: STATE_DIR }] };
  return [
    service('controller', CONTROLLER_PORT),
    service('injector', INJECTOR_PORT),
    deployment(r, 'controller', {
      replicas: r.controllerReplicas, port: CONTROLLER_PORT, scheme: 'HTTP',
      env: [
        ...apiAccess(CONTROLLER_ENV, 'controller'),
        { name: CONTROLLER_ENV.listen, value: `0.0.0.0:${CONTROLLER_PORT}` },
        fromSecret(CONTROLLER_ENV.meshKey, meshKeySecretName(r.mesh), 'mesh-key'),
        { name: CONTROLLER_ENV.stateDir, value: STATE_DIR },
        // Delivery over TLS with <mesh>-controller-tls (plain HTTP on the same port answers /healthz only).
        { name: CONTROLLER_ENV.tlsCert, value: `${TLS_DIR}/tls.crt` },
        { name: CONTROLLER_ENV.tlsKey, value: `${TLS_DIR}/tls.key` },
      ],
      volumes: [...state.volumes, { name: 'tls', secret: { secretName: controllerTlsSecretName(r.mesh) } }],
      mounts: [...state.mounts, { name: 'tls', mountPath: TLS_DIR, readOnly: true }],
    }),
    deployment(r, 'injector', {
      replicas: r.injectorReplicas, port: INJECTOR_PORT, scheme: 'HTTPS',
      env: [
        { name: INJECTOR_ENV.meshName, value: r.mesh },
        { name: INJECTOR_ENV.listen, value: `0.0.0.0:${INJECTOR_PORT}` },
        fromSecret(INJECTOR_ENV.apiToken, meshKeySecretName(r.mesh), 'webhook-token'),
        // Kubernetes mode: namespaces read with the ServiceAccount's (projected, rotated) token.
        { name: INJECTOR_KUBE_ENV.apiUrl, value: IN_CLUSTER_API_URL },
        { name: INJECTOR_KUBE_ENV.apiCa, value: IN_CLUSTER_CA_FILE },
        { name: INJECTOR_KUBE_ENV.apiTokenFile, value: IN_CLUSTER_TOKEN_FILE },
        { name: INJECTOR_ENV.tlsCert, value: `${TLS_DIR}/tls.crt` },
        { name: INJECTOR_ENV.tlsKey, value: `${TLS_DIR}/tls.key` },
      ],
      volumes: [{ name: 'tls', secret: { secretName: injectorTlsSecretName(r.mesh) } }],
      mounts: [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }],
    }),
    deployment(r, 'bootstrap', {
      replicas: r.bootstrapReplicas, port: BOOTSTRAP_PORT, scheme: 'HTTP',
      env: [...apiAccess(BOOTSTRAP_ENV, 'bootstrap'), { name: BOOTSTRAP_ENV.listen, value: `0.0.0.0:${BOOTSTRAP_PORT}` }],
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Identity, configuration and the webhook

function secrets(r: Resolved, s: InstallSecrets): Manifest[] {
  const ns = r.namespace;
  const token = (c: Component): Manifest => ({
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
    metadata: { name: tokenSecretName(r.mesh, c), namespace: ns, labels: componentLabels(r, c), annotations: { 'kubernetes.io/service-account.name': componentName(r.mesh, c) } },
  });
  return [
    {
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name: r.caBundleSecretName, namespace: ns, labels: instanceLabels(r) },
      data: { [CA_SECRET_KEYS.certificate]: s.caCert, [CA_SECRET_KEYS.privateKey]: s.caKey, [CA_SECRET_KEYS.expiration]: s.caExpiration },
    },
    {
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: { name: injectorTlsSecretName(r.mesh), namespace: ns, labels: componentLabels(r, 'injector') },
      data: { 'tls.crt': s.injectorCert, 'tls.key': s.injectorKey },
    },
    {
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: { name: controllerTlsSecretName(r.mesh), namespace: ns, labels: componentLabels(r, 'controller') },
      data: { 'tls.crt': s.controllerCert, 'tls.key': s.controllerKey },
    },
    {
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name: meshKeySecretName(r.mesh), namespace: ns, labels: instanceLabels(r) },
      data: { 'mesh-key': s.meshKey, 'webhook-token': s.webhookToken },
    },
    token('controller'),
    token('bootstrap'),
  ];
}

function meshConfig(r: Resolved): Manifest {
  const preset = presetMeshConfig(r.mesh);
  const spec = preset.spec ?? {};
  return {
    apiVersion: preset.apiVersion,
    kind: preset.kind,
    metadata: { name: preset.metadata.name, namespace: r.namespace, labels: instanceLabels(r) },
    spec: {
      ...spec,
      featureFlags: { ...spec.featureFlags, enablePluginPolicy: r.pluginPolicy },
      traffic: { ...spec.traffic, enablePermissiveTrafficPolicyMode: r.permissive, enableEgress: r.egress },
      sidecar: { ...spec.sidecar, logLevel: r.sidecarLogLevel },
    },
  };
}

function webhook(r: Resolved, s: InstallSecrets): Manifest {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: webhookConfigName(r), labels: componentLabels(r, 'injector') },
    webhooks: [
      {
        name: MUTATING_WEBHOOK_NAME,
        clientConfig: {
          // The chart turns this into an if/else on fsm.injector.webhookURL (chart.ts).
          ...(r.webhookURL
            ? { url: r.webhookURL }
            : { service: { namespace: r.namespace, name: componentName(r.mesh, 'injector'), path: MUTATE_PATH, port: INJECTOR_PORT } }),
          caBundle: s.caCert,
        },
        failurePolicy: 'Fail',
        matchPolicy: 'Exact',
        // FSM's selector: monitored by this mesh, not ignored, not a control plane's namespace.
        namespaceSelector: {
          matchLabels: { [MONITORED_BY_LABEL]: r.mesh },
          matchExpressions: [
            { key: IGNORE_NAMESPACE_LABEL, operator: 'DoesNotExist' },
            { key: 'name', operator: 'NotIn', values: [r.namespace] },
            { key: 'control-plane', operator: 'DoesNotExist' },
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', r.namespace] },
          ],
        },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
        sideEffects: 'None',
        timeoutSeconds: r.webhookTimeoutSeconds,
        admissionReviewVersions: ['v1'],
        reinvocationPolicy: 'Never',
      },
    ],
  };
}

/** Everything but the CRDs, from resolved names (the chart generator passes Helm expressions here). */
export function renderResolved(r: Resolved, s: InstallSecrets): Manifest[] {
  const ns = r.namespace;
  return [
    // FSM labels its control-plane namespace so its own selector never matches it.
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...instanceLabels(r), 'control-plane': r.mesh } } },
    ...(['controller', 'injector', 'bootstrap'] as const).map(
      (c): Manifest => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: componentName(r.mesh, c), namespace: ns, labels: componentLabels(r, c) } }),
    ),
    ...secrets(r, s),
    ...rbac(r),
    ...controllerSecretPolicy(r),
    ...workloads(r),
    meshConfig(r),
    webhook(r, s),
  ];
}

/** Every object of an install: the CRDs, then the mesh's objects, in install order. */
export function renderInstall(values: InstallValues = defaultValues(), s: InstallSecrets = PLACEHOLDER_SECRETS): Manifest[] {
  return sortForInstall([...renderCrds(), ...renderResolved(resolveValues(values), s)]);
}
