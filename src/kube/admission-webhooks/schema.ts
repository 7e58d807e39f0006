/**
 * The published schemas of the two webhook configuration kinds (`kubectl explain`, kubectl's
 * client-side validation), written in the CRD dialect from the admissionregistration.k8s.io/v1 API
 * reference. The server's own checks are validation.ts; these describe the fields.
 */
import type { JSONSchemaProps } from '../registry/types.js';
import { MUTATING_KIND, type WebhookConfigKind } from './types.js';

type S = JSONSchemaProps;
const str = (description: string): S => ({ type: 'string', description });
const strings = (description: string): S => ({ type: 'array', description, items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' });
const obj = (description: string, properties: Record<string, S>, required?: string[]): S => ({ type: 'object', description, properties, ...(required ? { required } : {}) });

const labelSelector = (description: string): S => obj(description, {
  matchLabels: { type: 'object', description: 'Labels that must all be present with these values.', additionalProperties: { type: 'string' } },
  matchExpressions: {
    type: 'array', description: 'Label selector requirements, ANDed.', 'x-kubernetes-list-type': 'atomic',
    items: obj('A label selector requirement.', { key: str('The label key.'), operator: str('In, NotIn, Exists or DoesNotExist.'), values: strings('Values for In and NotIn.') }, ['key', 'operator']),
  },
});

const clientConfig = obj('How the API server reaches the webhook.', {
  url: str('https URL of the webhook (no user info, query or fragment). Exactly one of url or service.'),
  service: obj('The Service the webhook is reached at. Exactly one of url or service.', {
    namespace: str('Namespace of the Service.'),
    name: str('Name of the Service.'),
    path: str('URL path requests are sent to.'),
    port: { type: 'integer', format: 'int32', description: 'Port of the Service; defaults to 443.' },
  }, ['namespace', 'name']),
  caBundle: { type: 'string', format: 'byte', description: 'PEM CA certificates the webhook\'s serving certificate must chain to; the system roots when empty.' },
});

const rule = obj('Operations and resources a webhook is called for.', {
  operations: strings('CREATE, UPDATE, DELETE, CONNECT, or * for all.'),
  apiGroups: strings('API groups; * for all, "" for the core group.'),
  apiVersions: strings('API versions; * for all.'),
  resources: strings('Resources (pods, pods/status, pods/*, *, */status, */*).'),
  scope: str('Cluster, Namespaced or * (default).'),
});

function webhook(kind: WebhookConfigKind): S {
  const properties: Record<string, S> = {
    name: str('Fully qualified name of the webhook (at least three dot-separated segments).'),
    clientConfig,
    rules: { type: 'array', description: 'What the webhook is called for; any rule matching is enough.', items: rule, 'x-kubernetes-list-type': 'atomic' },
    failurePolicy: str('Ignore or Fail (default): what a failed call means.'),
    matchPolicy: str('Exact or Equivalent (default): whether another version of a matching resource matches too.'),
    namespaceSelector: labelSelector('Which namespaces\' objects are sent to the webhook, by the namespace\'s labels.'),
    objectSelector: labelSelector('Which objects are sent to the webhook, by their labels.'),
    sideEffects: str('None or NoneOnDryRun.'),
    timeoutSeconds: { type: 'integer', format: 'int32', description: 'Seconds to wait for the webhook, 1 to 30; defaults to 10.' },
    admissionReviewVersions: strings('AdmissionReview versions the webhook accepts, preferred first (v1, v1beta1).'),
    matchConditions: {
      type: 'array', description: 'CEL conditions (not supported by this server: refused).', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
      items: obj('A CEL condition.', { name: str('Name of the condition.'), expression: str('CEL expression.') }, ['name', 'expression']),
    },
  };
  if (kind === MUTATING_KIND) properties.reinvocationPolicy = str('Never (default) or IfNeeded: call again once if a later webhook changed the object.');
  return obj('An admission webhook and what it is called for.', properties, ['name', 'clientConfig', 'sideEffects', 'admissionReviewVersions']);
}

export function webhookConfigurationSchema(kind: WebhookConfigKind): JSONSchemaProps {
  const what = kind === MUTATING_KIND ? 'may change' : 'may refuse';
  return obj(`Admission webhooks that ${what} objects before they are stored.`, {
    webhooks: {
      type: 'array', description: 'The webhooks and what they are called for.', items: webhook(kind),
      'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
      'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge',
    },
  });
}
