/**
 * admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and ValidatingWebhookConfiguration as
 * stored (after defaulting): the fields the API server reads to decide whom to call and how.
 */
import type { LabelSelector, Resource } from '../../api/types.js';

export const ADMISSIONREGISTRATION_GROUP = 'admissionregistration.k8s.io';
export const MUTATING_KIND = 'MutatingWebhookConfiguration';
export const VALIDATING_KIND = 'ValidatingWebhookConfiguration';
export const WEBHOOK_CONFIG_KINDS = [MUTATING_KIND, VALIDATING_KIND] as const;
export type WebhookConfigKind = (typeof WEBHOOK_CONFIG_KINDS)[number];

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT' | '*';
export type Scope = 'Cluster' | 'Namespaced' | '*';

export interface RuleWithOperations {
  operations?: Operation[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: Scope;
}

export interface ServiceReference {
  namespace: string;
  name: string;
  path?: string;
  port?: number;
}

export interface WebhookClientConfig {
  url?: string;
  service?: ServiceReference;
  /** base64 of PEM certificates */
  caBundle?: string;
}

export interface Webhook {
  name: string;
  clientConfig: WebhookClientConfig;
  rules?: RuleWithOperations[];
  failurePolicy?: 'Ignore' | 'Fail';
  matchPolicy?: 'Exact' | 'Equivalent';
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  sideEffects?: 'None' | 'NoneOnDryRun' | 'Some' | 'Unknown';
  timeoutSeconds?: number;
  admissionReviewVersions: string[];
  /** mutating webhooks only */
  reinvocationPolicy?: 'Never' | 'IfNeeded';
  matchConditions?: unknown[];
}

export interface WebhookConfiguration extends Resource {
  webhooks?: Webhook[];
}

/** The AdmissionReview versions this server speaks, in the order it prefers them. */
export const REVIEW_VERSIONS = ['v1', 'v1beta1'] as const;
