/** `config.flomesh.io` MeshConfig, with FSM's section and field names (fsm-design.md §1.6). */
import { z } from 'zod';
import { MOUNT_POINTS, PATH_NORMALIZATION_MODES } from '../types.js';
import { goDuration, nonNegativeInt, numberInRange, objectOf, optional, port, requiredString, withDefault } from './fields.js';
import { resourceSchema } from './metadata.js';
import { parseConnectAllowEntry } from '../../lib/connect-allow-list.js';
import { registerKind } from './registry.js';

const bool = optional(z.boolean());
const strings = optional(z.array(z.string()));
/** Tessera addition: where a workload may open a CONNECT tunnel (docs/security.md "Tunnels"). */
const connectAllowList = optional(
  z.array(
    z.string().superRefine((v, ctx) => {
      const e = parseConnectAllowEntry(v);
      if (typeof e === 'string') ctx.addIssue({ code: z.ZodIssueCode.custom, message: e });
    }),
  ),
);
/** Sections FSM has but Tessera does not interpret; kept as given so FSM configs still apply. */
const anyObject = optional(z.record(z.string(), z.unknown()));

/** Every flag of FSM's FeatureFlags; listing them means a misspelt flag is an error, not a silent no-op. */
const FEATURE_FLAGS = [
  'enableEgressPolicy', 'enableSnapshotCacheMode', 'enableAsyncProxyServiceMapping', 'enableIngressBackendPolicy',
  'enableAccessControlPolicy', 'enableAccessCertPolicy', 'enableSidecarPrettyConfig', 'enableSidecarActiveHealthChecks',
  'enableRetryPolicy', 'enablePluginPolicy', 'enableAutoDefaultRoute', 'enableTrafficWarmupPolicy',
  'enableValidateGatewayListenerHostname', 'enableValidateHTTPRouteHostnames', 'enableValidateGRPCRouteHostnames',
  'enableValidateTLSRouteHostnames', 'useEndpointSlicesForGateway', 'dropRouteRuleIfNoAvailableBackends',
] as const;

const featureFlags = objectOf(Object.fromEntries(FEATURE_FLAGS.map((f) => [f, bool])), 'strict');

const traffic = objectOf(
  {
    interceptionMode: optional(z.enum(['PodLevel', 'NodeLevel'])),
    enableEgress: bool,
    outboundConnectAllowList: connectAllowList,
    enablePermissiveTrafficPolicyMode: bool,
    outboundIPRangeExclusionList: strings,
    outboundIPRangeInclusionList: strings,
    outboundPortExclusionList: optional(z.array(port)),
    inboundPortExclusionList: optional(z.array(port)),
    networkInterfaceExclusionList: strings,
    http1PerRequestLoadBalancing: bool,
    http2PerRequestLoadBalancing: bool,
    serviceAccessMode: optional(z.enum(['ip', 'domain', 'mixed'])),
    serviceAccessNames: optional(
      objectOf(
        { mustWithServicePort: bool, withTrustDomain: bool, mustWithNamespace: bool, cloud: optional(objectOf({ withNamespace: bool }, 'strict')) },
        'strict',
      ),
    ),
    inboundExternalAuthorization: optional(
      objectOf(
        {
          enable: bool,
          address: optional(z.string()),
          port: optional(numberInRange(0, 65535)),
          statPrefix: optional(z.string()),
          timeout: optional(goDuration()),
          failureModeAllow: bool,
        },
        'strict',
      ),
    ),
  },
  'strict',
);

const certificate = objectOf(
  {
    serviceCertValidityDuration: optional(goDuration({ positive: true })),
    certKeyBitSize: optional(numberInRange(2048, 4096)),
    ingressGateway: anyObject,
  },
  'strict',
);

const TLS_VERSIONS = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'] as const;

const sidecar = objectOf(
  {
    logLevel: optional(z.enum(['trace', 'debug', 'info', 'warn', 'error'])),
    sidecarImage: optional(z.string()),
    sidecarTimeout: optional(nonNegativeInt),
    compressConfig: bool,
    holdApplicationUntilProxyStarts: bool,
    gracefulExitUntilDownstreamEnds: bool,
    sidecarDisabledMTLS: bool,
    enablePrivilegedInitContainer: bool,
    localProxyMode: optional(z.enum(['Localhost', 'PodIP'])),
    maxDataPlaneConnections: optional(nonNegativeInt),
    configResyncInterval: optional(goDuration()),
    tlsMinProtocolVersion: optional(z.enum(TLS_VERSIONS)),
    tlsMaxProtocolVersion: optional(z.enum(TLS_VERSIONS)),
    cipherSuites: strings,
    ecdhCurves: strings,
    resources: anyObject,
    initResources: anyObject,
    healthcheckResources: anyObject,
    localDNSProxy: anyObject,
    xnetDNSProxy: anyObject,
  },
  'strict',
);

const repoServer = objectOf({ ipaddr: optional(z.string()), port: optional(port), codebase: optional(z.string()) }, 'strict');

/** One built-in module in a mount point's chain. Priority is a float in FSM (float32). */
const builtinChainEntry = objectOf(
  { plugin: requiredString, priority: numberInRange(0, 65535, { integer: false }), disable: withDefault(z.boolean(), false) },
  'strict',
);

const pluginChains = objectOf(Object.fromEntries(MOUNT_POINTS.map((m) => [m, optional(z.array(builtinChainEntry))])), 'strict');

/** Header names are matched lower-case by the sidecar; reject what could never be a header name. */
const headerNames = optional(
  z.array(z.string()).superRefine((names, ctx) => {
    names.forEach((n, i) => {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(n)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i], message: `${JSON.stringify(n)} is not a header name` });
    });
  }),
);

/** Istio's envoyExtAuthzHttp; other provider kinds are not supported, so `strict` rejects them by name. */
const envoyExtAuthzHttp = objectOf(
  {
    service: requiredString,
    port,
    timeout: optional(goDuration({ positive: true })),
    pathPrefix: optional(
      z.string().superRefine((v, ctx) => {
        if (!v.startsWith('/')) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must start with "/"' });
      }),
    ),
    includeRequestHeadersInCheck: headerNames,
    headersToUpstreamOnAllow: headerNames,
  },
  'strict',
);

/** CUSTOM AuthorizationPolicies name a provider; names must be unique so the reference is unambiguous. */
const extensionProviders = optional(
  z.array(objectOf({ name: requiredString, envoyExtAuthzHttp }, 'strict')).superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'name'], message: `duplicate extension provider ${JSON.stringify(p.name)}` });
      seen.add(p.name);
    });
  }),
);

/** Istio's pathNormalization plus Tessera's two options; `strict`, so a misspelt option is an error, not a silent no-op. */
const pathNormalization = objectOf(
  { normalization: optional(z.enum([...PATH_NORMALIZATION_MODES, 'DEFAULT'])), caseInsensitive: bool, stripPathParameters: bool, stripTrailingSlash: bool },
  'strict',
);

const meshConfigSpec = objectOf(
  {
    featureFlags: optional(featureFlags),
    traffic: optional(traffic),
    certificate: optional(certificate),
    sidecar: optional(sidecar),
    repoServer: optional(repoServer),
    pluginChains: optional(pluginChains),
    extensionProviders,
    pathNormalization: optional(pathNormalization),
    observability: anyObject,
    warmup: anyObject,
    clusterSet: anyObject,
    ingress: anyObject,
    gatewayAPI: anyObject,
    serviceLB: anyObject,
    flb: anyObject,
    egressGateway: anyObject,
    image: anyObject,
    misc: anyObject,
    connector: anyObject,
  },
  'strict',
);

registerKind('MeshConfig', resourceSchema({ spec: optional(meshConfigSpec) }));
