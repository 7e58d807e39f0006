/**
 * Admission webhooks (admissionregistration.k8s.io/v1): the stored configurations' defaults and
 * validation, and the dispatcher that calls matching mutating and validating webhooks over HTTPS.
 */
export { AdmissionWebhooks, type AdmissionAttributes, type AdmissionWebhooksOptions, type MutationResult } from './dispatcher.js';
export { WebhookCallError, type WebhookCallErrorCode } from './errors.js';
export { webhookMatches, type MatchRequest } from './matching.js';
export { webhookConfigurationSchema } from './schema.js';
export {
  ADMISSIONREGISTRATION_GROUP, MUTATING_KIND, VALIDATING_KIND, WEBHOOK_CONFIG_KINDS,
  type Webhook, type WebhookConfiguration, type WebhookConfigKind,
} from './types.js';
export { validateWebhookConfiguration, withDefaults } from './validation.js';
