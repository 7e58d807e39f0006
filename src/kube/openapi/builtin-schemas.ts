/**
 * Schemas of the built-in kinds the server serves, written from the Kubernetes API reference in the
 * CRD dialect (JSONSchemaProps) so that one converter publishes them and built-in and custom kinds
 * read alike in `kubectl explain`. They cover the fields the mesh and its users write; a subtree
 * described only in part says `x-kubernetes-preserve-unknown-fields: true`, so a manifest valid
 * against a real cluster is never refused here (the OpenAPI v2 converter then leaves it open, as
 * kube-apiserver does for such CRD nodes).
 *
 * `x-tessera-object-meta: true` marks a nested ObjectMeta (a pod template's metadata): the documents
 * reference the shared ObjectMeta definition there.
 */
import { strategicSchemaFor, type StrategicSchema } from '../patch/index.js';
import type { JSONSchemaProps } from '../registry/types.js';

type S = JSONSchemaProps;
const str = (description: string, extra: Partial<S> = {}): S => ({ type: 'string', description, ...extra });
const int = (description: string, format: 'int32' | 'int64' = 'int32'): S => ({ type: 'integer', format, description });
const bool = (description: string): S => ({ type: 'boolean', description });
const obj = (description: string, properties: Record<string, S>, required?: string[]): S => ({
  type: 'object', description, properties, ...(required ? { required } : {}),
});
const arr = (description: string, items: S, extra: Partial<S> = {}): S => ({ type: 'array', description, items, ...extra });
const strings = (description: string): S => arr(description, { type: 'string' });
const stringMap = (description: string): S => ({ type: 'object', description, additionalProperties: { type: 'string' } });
const intOrString = (description: string): S => ({ 'x-kubernetes-int-or-string': true, description });
const quantity = (description: string): S => ({ 'x-kubernetes-int-or-string': true, description, pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$' });
const open = (description: string): S => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });
const openList = (description: string): S => arr(description, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
const time = (description: string): S => ({ type: 'string', format: 'date-time', description });
const objectMeta = (description: string): S => ({ ...open(description), 'x-tessera-object-meta': true });
const byName = (items: S): Partial<S> => ({ items, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });

const localRef = obj('A reference to an object in the same namespace.', { name: str('Name of the referent.') });
const keySelector = (what: string) =>
  obj(`Selects a key of a ${what}.`, { name: str(`Name of the ${what}.`), key: str('The key to select.'), optional: bool(`Whether the ${what} or its key must exist.`) }, ['key']);

const labelSelector = obj('A label query over a set of resources; matchLabels and matchExpressions are ANDed.', {
  matchLabels: stringMap('Labels that must all be present with these values.'),
  matchExpressions: arr('Label selector requirements, ANDed.', obj('A label selector requirement.', {
    key: str('The label key.'),
    operator: str('In, NotIn, Exists or DoesNotExist.'),
    values: strings('Values for In and NotIn; empty for Exists and DoesNotExist.'),
  }, ['key', 'operator'])),
});

const envVar = obj('An environment variable of a container.', {
  name: str('Name of the variable.'),
  value: str('Value, with $(VAR) references expanded.'),
  valueFrom: obj('Source of the value when value is not set.', {
    configMapKeyRef: keySelector('ConfigMap'),
    secretKeyRef: keySelector('Secret'),
    fieldRef: obj('A field of the pod: metadata.name, metadata.namespace, spec.nodeName, status.podIP…', {
      apiVersion: str('Version of the schema the field path is written in.'),
      fieldPath: str('Path of the field.'),
    }, ['fieldPath']),
    resourceFieldRef: obj('A resource of the container: limits.cpu, requests.memory…', {
      containerName: str('Container name; required for volumes.'),
      resource: str('The resource to select.'),
      divisor: quantity('Output format of the exposed resource.'),
    }, ['resource']),
  }),
}, ['name']);

const envFrom = obj('A source of a set of environment variables.', {
  prefix: str('Prefix prepended to each key.'),
  configMapRef: obj('The ConfigMap to read.', { name: str('Name of the ConfigMap.'), optional: bool('Whether the ConfigMap must exist.') }),
  secretRef: obj('The Secret to read.', { name: str('Name of the Secret.'), optional: bool('Whether the Secret must exist.') }),
});

const containerPort = obj('A network port of a container.', {
  name: str('IANA_SVC_NAME, unique in the pod; referred to by services.'),
  containerPort: int('Port number on the pod IP (0 < x < 65536).'),
  protocol: str('UDP, TCP or SCTP. Defaults to TCP.', { default: 'TCP' }),
  hostPort: int('Port number on the host.'),
  hostIP: str('Host IP to bind the external port to.'),
}, ['containerPort']);

const httpHeader = obj('A custom HTTP header.', { name: str('Header name.'), value: str('Header value.') }, ['name', 'value']);
const handlerFields: Record<string, S> = {
  exec: obj('A command run in the container.', { command: strings('Command line; not run in a shell.') }),
  httpGet: obj('An HTTP GET request.', {
    path: str('Path to access.'),
    port: intOrString('Port number or name on the container.'),
    host: str('Host name; defaults to the pod IP.'),
    scheme: str('HTTP or HTTPS. Defaults to HTTP.'),
    httpHeaders: arr('Custom headers.', httpHeader),
  }, ['port']),
  tcpSocket: obj('A TCP connection.', { port: intOrString('Port number or name on the container.'), host: str('Host name; defaults to the pod IP.') }, ['port']),
};
const probe = (what: string) =>
  obj(`${what} probe of the container.`, {
    ...handlerFields,
    grpc: obj('A gRPC health check.', { port: int('Port number of the gRPC service.'), service: str('Service name for the health check.') }, ['port']),
    initialDelaySeconds: int('Seconds after start before the first probe.'),
    periodSeconds: int('Seconds between probes. Defaults to 10.'),
    timeoutSeconds: int('Seconds before a probe times out. Defaults to 1.'),
    successThreshold: int('Consecutive successes to count as success. Defaults to 1.'),
    failureThreshold: int('Consecutive failures to count as failure. Defaults to 3.'),
    terminationGracePeriodSeconds: int('Grace period after a liveness failure.', 'int64'),
  });

const resources = obj('Compute resources of a container.', {
  limits: { type: 'object', description: 'Maximum amounts of compute resources.', additionalProperties: quantity('') },
  requests: { type: 'object', description: 'Minimum amounts of compute resources.', additionalProperties: quantity('') },
  claims: arr('Names of resource claims used by the container.', obj('A resource claim.', { name: str('Name of a pod resource claim.'), request: str('Request name.') }, ['name'])),
});

const profile = (what: string) => obj(`${what} profile.`, { type: str('RuntimeDefault, Localhost or Unconfined.'), localhostProfile: str('Profile file on the node.') }, ['type']);
const securityContext = obj('Security options of the container; they override the pod\'s.', {
  allowPrivilegeEscalation: bool('Whether a process may gain more privileges than its parent.'),
  capabilities: obj('Capabilities to add and drop.', { add: strings('Capabilities added.'), drop: strings('Capabilities removed.') }),
  privileged: bool('Run as privileged.'),
  procMount: str('Default or Unmasked.'),
  readOnlyRootFilesystem: bool('Mount the root filesystem read-only.'),
  runAsUser: int('UID the entrypoint runs as.', 'int64'),
  runAsGroup: int('GID the entrypoint runs as.', 'int64'),
  runAsNonRoot: bool('Refuse to start if the image would run as UID 0.'),
  seLinuxOptions: open('SELinux context.'),
  seccompProfile: profile('Seccomp'),
  appArmorProfile: profile('AppArmor'),
  windowsOptions: open('Windows-specific settings.'),
});

const volumeMount = obj('A volume mounted in the container.', {
  name: str('Name of the volume.'),
  mountPath: str('Path in the container; must not contain \':\'.'),
  readOnly: bool('Mount read-only.'),
  subPath: str('Path within the volume to mount.'),
  subPathExpr: str('subPath with $(VAR) expansion.'),
  mountPropagation: str('None, HostToContainer or Bidirectional.'),
  recursiveReadOnly: str('Disabled, IfPossible or Enabled.'),
}, ['name', 'mountPath']);

const container = (what: string) =>
  obj(what, {
    name: str('Name of the container (DNS label), unique in the pod.'),
    image: str('Container image name.'),
    imagePullPolicy: str('Always, Never or IfNotPresent.'),
    command: strings('Entrypoint array; not run in a shell.'),
    args: strings('Arguments to the entrypoint.'),
    workingDir: str('Working directory.'),
    env: arr('Environment variables.', envVar, byName(envVar)),
    envFrom: arr('Sources of environment variables.', envFrom),
    ports: arr('Ports exposed by the container.', containerPort),
    volumeMounts: arr('Volumes mounted in the container.', volumeMount),
    volumeDevices: openList('Block devices used by the container.'),
    resources,
    resizePolicy: openList('Resize policies of the container\'s resources.'),
    restartPolicy: str('Always makes an init container a sidecar.'),
    livenessProbe: probe('Liveness'),
    readinessProbe: probe('Readiness'),
    startupProbe: probe('Startup'),
    lifecycle: obj('Actions run on container events.', {
      postStart: obj('Run right after the container starts.', { ...handlerFields, sleep: open('A sleep.') }),
      preStop: obj('Run before the container is stopped.', { ...handlerFields, sleep: open('A sleep.') }),
      stopSignal: str('Signal used to stop the container.'),
    }),
    securityContext,
    stdin: bool('Allocate a buffer for stdin.'),
    stdinOnce: bool('Close stdin after the first attach.'),
    tty: bool('Allocate a TTY.'),
    terminationMessagePath: str('File the termination message is read from.'),
    terminationMessagePolicy: str('File or FallbackToLogsOnError.'),
  }, ['name']);

const keyToPath = arr('Keys projected into the volume; unlisted keys are left out.', obj('A key mapped to a path.', {
  key: str('The key.'), path: str('Relative path of the file.'), mode: int('File mode bits.'),
}, ['key', 'path']));

const OTHER_VOLUME_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'downwardAPI', 'ephemeral', 'fc', 'flexVolume',
  'flocker', 'gcePersistentDisk', 'gitRepo', 'glusterfs', 'image', 'iscsi', 'nfs', 'photonPersistentDisk', 'portworxVolume',
  'projected', 'quobyte', 'rbd', 'scaleIO', 'storageos', 'vsphereVolume',
];
const volume = obj('A named volume that containers of the pod may mount.', {
  name: str('Name of the volume (DNS label), unique in the pod.'),
  configMap: obj('A ConfigMap as files.', { name: str('Name of the ConfigMap.'), items: keyToPath, defaultMode: int('Default file mode bits.'), optional: bool('Whether the ConfigMap must exist.') }),
  secret: obj('A Secret as files.', { secretName: str('Name of the Secret.'), items: keyToPath, defaultMode: int('Default file mode bits.'), optional: bool('Whether the Secret must exist.') }),
  emptyDir: obj('A directory that lives as long as the pod.', { medium: str('"" or Memory.'), sizeLimit: quantity('Maximum size.') }),
  hostPath: obj('A file or directory of the node.', { path: str('Path on the host.'), type: str('Type check of the path.') }, ['path']),
  persistentVolumeClaim: obj('A PersistentVolumeClaim in the namespace.', { claimName: str('Name of the claim.'), readOnly: bool('Mount read-only.') }, ['claimName']),
  ...Object.fromEntries(OTHER_VOLUME_SOURCES.map((k) => [k, open(`The ${k} volume source.`)])),
}, ['name']);

const podSpec = obj('Specification of the desired behavior of the pod.', {
  containers: arr('Containers of the pod; at least one.', container('A container of the pod.'), byName(container('A container of the pod.'))),
  initContainers: arr('Containers run in order before the app containers; restartPolicy Always makes a sidecar.', container('An init container.'), byName(container('An init container.'))),
  ephemeralContainers: openList('Debugging containers added to a running pod.'),
  volumes: arr('Volumes the containers may mount.', volume, byName(volume)),
  serviceAccountName: str('Name of the ServiceAccount the pod runs as.'),
  serviceAccount: str('Deprecated alias of serviceAccountName.'),
  automountServiceAccountToken: bool('Mount the service account token.'),
  restartPolicy: str('Always, OnFailure or Never. Defaults to Always.'),
  terminationGracePeriodSeconds: int('Seconds to wait for a graceful stop.', 'int64'),
  activeDeadlineSeconds: int('Seconds the pod may run before it is failed.', 'int64'),
  dnsPolicy: str('ClusterFirstWithHostNet, ClusterFirst, Default or None.'),
  dnsConfig: open('DNS parameters of the pod.'),
  nodeSelector: stringMap('Labels a node must have to run the pod.'),
  nodeName: str('Node the pod is bound to.'),
  hostNetwork: bool('Use the host\'s network namespace.'),
  hostPID: bool('Use the host\'s PID namespace.'),
  hostIPC: bool('Use the host\'s IPC namespace.'),
  hostUsers: bool('Use the host\'s user namespace.'),
  shareProcessNamespace: bool('Share one PID namespace between the containers.'),
  hostname: str('Host name of the pod.'),
  subdomain: str('Subdomain of the pod\'s host name.'),
  setHostnameAsFQDN: bool('Set the host name to the FQDN.'),
  hostAliases: openList('Entries added to /etc/hosts.'),
  imagePullSecrets: arr('Secrets used to pull the images.', localRef),
  securityContext: open('Pod-level security attributes.'),
  affinity: open('Scheduling constraints.'),
  tolerations: openList('Taints the pod tolerates.'),
  topologySpreadConstraints: openList('How the pods spread across topology domains.'),
  schedulerName: str('Scheduler that places the pod.'),
  schedulingGates: openList('Gates that hold the pod from scheduling.'),
  priorityClassName: str('Priority class of the pod.'),
  priority: int('Priority value.'),
  preemptionPolicy: str('Never or PreemptLowerPriority.'),
  runtimeClassName: str('RuntimeClass the pod runs with.'),
  enableServiceLinks: bool('Inject service environment variables.'),
  readinessGates: openList('Extra conditions for pod readiness.'),
  overhead: { type: 'object', description: 'Resource overhead of the pod sandbox.', additionalProperties: quantity('') },
  os: open('Operating system of the containers.'),
  resourceClaims: openList('Resource claims of the pod.'),
  resources: open('Pod-level compute resources.'),
}, ['containers']);

const podTemplate = obj('Template of the pods created.', {
  metadata: objectMeta('Metadata of the pods created.'),
  spec: podSpec,
});

const servicePort = obj('A port the service exposes.', {
  name: str('Name of the port; required when there are several.'),
  protocol: str('TCP, UDP or SCTP. Defaults to TCP.', { default: 'TCP' }),
  appProtocol: str('Application protocol (http, h2c, kubernetes.io/ws…).'),
  port: int('Port exposed by the service.'),
  targetPort: intOrString('Port number or name on the pods. Defaults to port.'),
  nodePort: int('Port on each node for NodePort and LoadBalancer.'),
}, ['port']);

const endpointPort = obj('A port of the endpoints.', {
  name: str('Name of the port; matches the service port name.'),
  port: int('Port number.'),
  protocol: str('TCP, UDP or SCTP.'),
  appProtocol: str('Application protocol.'),
});

const objectReference = obj('A reference to an object.', {
  kind: str('Kind of the referent.'), namespace: str('Namespace of the referent.'), name: str('Name of the referent.'),
  uid: str('UID of the referent.'), apiVersion: str('API version of the referent.'), resourceVersion: str('Resource version of the referent.'),
  fieldPath: str('A field within the object (spec.containers{name}).'),
});

const endpointAddress = obj('An address of an endpoint.', {
  ip: str('IP of the endpoint.'), hostname: str('Host name of the endpoint.'), nodeName: str('Node hosting the endpoint.'), targetRef: objectReference,
}, ['ip']);

const KINDS: Record<string, S> = {
  '/Namespace': obj('A scope for names.', {
    spec: obj('Spec of the namespace.', { finalizers: strings('Finalizers that must empty before the namespace is removed.') }),
    status: open('Status of the namespace (phase, conditions).'),
  }),
  '/Pod': obj('A collection of containers that run on a host.', { spec: podSpec, status: open('Most recently observed status of the pod.') }),
  '/Service': obj('A named abstraction of software service: a port proxied to the pods a selector matches.', {
    spec: obj('Specification of the service.', {
      ports: arr('Ports the service exposes.', servicePort, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'] }),
      selector: stringMap('Labels of the pods traffic is routed to.'),
      type: str('ClusterIP, NodePort, LoadBalancer or ExternalName. Defaults to ClusterIP.'),
      clusterIP: str('Virtual IP of the service; None for a headless service.'),
      clusterIPs: strings('Virtual IPs of the service, one per IP family.'),
      externalIPs: strings('IPs accepted for the service besides the cluster IPs.'),
      externalName: str('DNS name an ExternalName service aliases.'),
      sessionAffinity: str('ClientIP or None. Defaults to None.'),
      sessionAffinityConfig: open('Session affinity settings.'),
      loadBalancerIP: str('Requested load balancer IP (deprecated).'),
      loadBalancerSourceRanges: strings('Client CIDRs allowed through the load balancer.'),
      loadBalancerClass: str('Load balancer implementation.'),
      allocateLoadBalancerNodePorts: bool('Allocate node ports for a LoadBalancer.'),
      externalTrafficPolicy: str('Cluster or Local.'),
      internalTrafficPolicy: str('Cluster or Local.'),
      healthCheckNodePort: int('Health check node port.'),
      ipFamilies: strings('IP families of the service.'),
      ipFamilyPolicy: str('SingleStack, PreferDualStack or RequireDualStack.'),
      publishNotReadyAddresses: bool('Publish endpoints of pods that are not ready.'),
      trafficDistribution: str('How traffic is distributed across endpoints.'),
    }),
    status: open('Most recently observed status of the service.'),
  }),
  '/Endpoints': obj('The addresses and ports that implement a service.', {
    subsets: arr('Sets of addresses sharing the same ports.', obj('Addresses and the ports they all serve.', {
      addresses: arr('Ready addresses.', endpointAddress),
      notReadyAddresses: arr('Addresses not ready yet.', endpointAddress),
      ports: arr('Ports of the addresses.', endpointPort),
    })),
  }),
  '/ConfigMap': obj('Configuration data for pods to consume.', {
    data: stringMap('UTF-8 configuration data.'),
    binaryData: { type: 'object', description: 'Binary configuration data, base64.', additionalProperties: { type: 'string', format: 'byte' } },
    immutable: bool('Forbid updates of the data.'),
  }),
  '/Secret': obj('Secret data of a given type.', {
    data: { type: 'object', description: 'Secret data, base64-encoded values.', additionalProperties: { type: 'string', format: 'byte' } },
    stringData: stringMap('Write-only plain-text data, merged into data on write.'),
    type: str('Type of the secret (Opaque, kubernetes.io/tls, kubernetes.io/service-account-token…).'),
    immutable: bool('Forbid updates of the data.'),
  }),
  '/ServiceAccount': obj('An identity for processes that run in a pod.', {
    secrets: openList('Secrets pods running as this account may use.'),
    imagePullSecrets: arr('Secrets used to pull images of pods running as this account.', localRef),
    automountServiceAccountToken: bool('Mount the token into pods by default.'),
  }),
  '/Event': obj('A report of an event somewhere in the cluster.', {
    involvedObject: objectReference,
    reason: str('Short, machine-understandable reason.'),
    message: str('Human-readable description.'),
    source: obj('The component reporting the event.', { component: str('Component name.'), host: str('Node name.') }),
    firstTimestamp: time('First time the event was recorded.'),
    lastTimestamp: time('Most recent time the event was recorded.'),
    count: int('Number of occurrences.'),
    type: str('Normal or Warning.'),
    eventTime: { type: 'string', format: 'date-time', description: 'When the event was first observed (microseconds).' },
    series: open('Data about the series this event belongs to.'),
    action: str('What was done, or failed to be done.'),
    related: objectReference,
    reportingComponent: str('Controller that emitted the event.'),
    reportingInstance: str('Instance of the controller.'),
  }, ['involvedObject']),
  'apps/Deployment': obj('Declarative updates of pods and replica sets.', {
    spec: obj('Specification of the deployment.', {
      replicas: int('Desired number of pods. Defaults to 1.'),
      selector: labelSelector,
      template: podTemplate,
      strategy: obj('How pods are replaced by new ones.', {
        type: str('Recreate or RollingUpdate. Defaults to RollingUpdate.'),
        rollingUpdate: obj('Rolling update parameters.', {
          maxUnavailable: intOrString('Pods that may be unavailable during the update (number or percentage).'),
          maxSurge: intOrString('Pods that may be created above the desired count (number or percentage).'),
        }),
      }),
      minReadySeconds: int('Seconds a new pod must be ready to count as available.'),
      revisionHistoryLimit: int('Old replica sets kept for rollback. Defaults to 10.'),
      progressDeadlineSeconds: int('Seconds before a stalled rollout is reported. Defaults to 600.'),
      paused: bool('Pause the rollout.'),
    }, ['selector', 'template']),
    status: open('Most recently observed status of the deployment.'),
  }),
  'discovery.k8s.io/EndpointSlice': obj('A subset of the endpoints that implement a service.', {
    addressType: str('IPv4, IPv6 or FQDN.'),
    endpoints: arr('Unique endpoints of the slice.', obj('One endpoint.', {
      addresses: strings('Addresses of the endpoint, of the slice\'s address type.'),
      conditions: obj('Current state of the endpoint.', { ready: bool('Ready for traffic.'), serving: bool('Serving, even if terminating.'), terminating: bool('Terminating.') }),
      hostname: str('Host name of the endpoint.'),
      nodeName: str('Node hosting the endpoint.'),
      zone: str('Zone of the endpoint.'),
      targetRef: objectReference,
      hints: open('Hints for consumers of the endpoint.'),
      deprecatedTopology: stringMap('Deprecated topology labels.'),
    }, ['addresses']), { 'x-kubernetes-list-type': 'atomic' }),
    ports: arr('Ports of the endpoints.', endpointPort, { 'x-kubernetes-list-type': 'atomic' }),
  }, ['addressType', 'endpoints']),
  'apiextensions.k8s.io/CustomResourceDefinition': obj('A resource type served by the API server.', {
    spec: obj('How the resource appears.', {
      group: str('API group of the resource.'),
      names: obj('Names of the resource.', {
        plural: str('Plural name, used in URLs.'),
        singular: str('Singular name.'),
        kind: str('Kind of the objects.'),
        listKind: str('Kind of the lists.'),
        shortNames: strings('Short names for kubectl.'),
        categories: strings('Groups the resource belongs to (all…).'),
      }, ['plural', 'kind']),
      scope: str('Cluster or Namespaced.'),
      versions: arr('Versions of the resource.', obj('One served version.', {
        name: str('Version name, e.g. v1.'),
        served: bool('Served over REST.'),
        storage: bool('The version objects are stored in; exactly one.'),
        deprecated: bool('Answer requests with a deprecation warning.'),
        deprecationWarning: str('Text of the deprecation warning.'),
        schema: obj('Schema of the objects.', { openAPIV3Schema: open('OpenAPI v3 schema for validation and pruning.') }),
        subresources: open('Subresources served (status, scale).'),
        additionalPrinterColumns: arr('Columns kubectl get prints.', obj('A printer column.', {
          name: str('Column header.'), type: str('integer, number, string, boolean or date.'), format: str('Format of the values.'),
          description: str('Column description.'), priority: int('0 in the default view, more with -o wide.'), jsonPath: str('JSON path of the value.'),
        }, ['name', 'type', 'jsonPath'])),
        selectableFields: openList('Fields usable in field selectors.'),
      }, ['name', 'served', 'storage'])),
      conversion: open('How versions are converted.'),
      preserveUnknownFields: bool('Deprecated; must be false.'),
    }, ['group', 'names', 'scope', 'versions']),
    status: open('Most recently observed status of the definition.'),
  }),
};

/** The schema of a built-in kind (`group` '' for core), or undefined for a kind not served here. */
export function builtinSchema(group: string, kind: string): JSONSchemaProps | undefined {
  const schema = KINDS[`${group}/${kind}`];
  const strategic = strategicSchemaFor(group, kind);
  return schema && strategic ? withPatchExtensions(schema, strategic) : schema;
}

/**
 * The schema with kube-apiserver's `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy`
 * on the fields strategic merge patch treats specially: kubectl's client-side apply reads them to
 * compute its patch, so without them it re-sends whole lists (containers, ports) on every apply.
 */
function withPatchExtensions(schema: JSONSchemaProps, strategic: StrategicSchema): JSONSchemaProps {
  const out: JSONSchemaProps = { ...schema };
  const strategies = [strategic.patchStrategy, strategic.retainKeys ? 'retainKeys' : undefined].filter(Boolean);
  if (strategies.length > 0) out['x-kubernetes-patch-strategy'] = strategies.join(',');
  if (strategic.patchMergeKey) out['x-kubernetes-patch-merge-key'] = strategic.patchMergeKey;
  const fields = strategic.fields ?? {};
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, fields[k] ? withPatchExtensions(v, fields[k]!) : v]));
  }
  // A list's `fields` describe each element.
  if (schema.items && Object.keys(fields).length > 0) out.items = withPatchExtensions(schema.items, { fields });
  return out;
}

/** Kinds the mesh defines through its own CRDs; their schemas will come from those CRDs. */
export const MESH_KINDS: readonly string[] = [
  'Plugin', 'PluginChain', 'PluginConfig', 'MeshConfig', 'AccessControl', 'AccessCert',
  'TrafficTarget', 'HTTPRouteGroup', 'TCPRoute', 'UDPRoute', 'RequestAuthentication', 'AuthorizationPolicy',
];

/**
 * Placeholder schema of a mesh kind until its CRD schema is wired in: spec (and status) accepted as
 * they are, so nothing valid is refused while apiVersion/kind/metadata are still published.
 */
export function meshKindSchema(kind: string): JSONSchemaProps | undefined {
  if (!MESH_KINDS.includes(kind)) return undefined;
  return {
    type: 'object',
    description: `${kind} of the mesh.`,
    properties: {
      spec: open(`Specification of the ${kind}.`),
      status: open(`Observed status of the ${kind}.`),
    },
  };
}
