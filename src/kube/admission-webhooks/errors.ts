/**
 * Why calling a webhook failed, with a stable code. The dispatcher turns these into kube-apiserver's
 * `Internal error occurred: failed calling webhook "NAME": …` (failurePolicy Fail) or ignores them
 * (failurePolicy Ignore); the messages after the webhook's name are kube-apiserver's where it has one.
 */
export type WebhookCallErrorCode =
  /** no connection, TLS refused, timeout, or an HTTP error status */
  | 'WEBHOOK_CALL_FAILED'
  /** the answer is not an AdmissionReview response for this request */
  | 'WEBHOOK_BAD_RESPONSE'
  /** clientConfig.service names a Service with no ready endpoint */
  | 'WEBHOOK_SERVICE_UNAVAILABLE'
  /** the webhook's patch could not be applied (or a validating webhook sent one) */
  | 'WEBHOOK_BAD_PATCH';

export class WebhookCallError extends Error {
  constructor(readonly code: WebhookCallErrorCode, message: string) {
    super(message);
    this.name = 'WebhookCallError';
  }
}
