/**
 * One call of one webhook: an `admission.k8s.io/v1` (or v1beta1) AdmissionReview POSTed over HTTPS to
 * clientConfig.url, or to the Service clientConfig.service names (its ready endpoint, with the TLS
 * name `<service>.<namespace>.svc`, as kube-apiserver's endpoint routing does). The server's
 * certificate must chain to caBundle (the system roots when it is empty) and name the URL's host.
 * The timeout is the webhook's timeoutSeconds, also sent as `?timeout=Ns` as kube-apiserver does.
 */
import { request } from 'node:https';
import { isIP } from 'node:net';
import { WebhookCallError } from './errors.js';
import { caCertificates } from './validation.js';
import type { ServiceReference, Webhook } from './types.js';

export interface ReviewResponse {
  uid: string;
  allowed: boolean;
  patchType?: string;
  patch?: string;
  status?: { code?: number; message?: string; reason?: string; status?: string; details?: unknown };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** Where a Service reference leads: an address to connect to and the name its certificate must carry. */
export interface ServiceEndpoint {
  host: string;
  port: number;
  servername: string;
}

export type ResolveService = (ref: ServiceReference) => ServiceEndpoint;

/** The AdmissionReview version to speak with `hook`: the first of its list this server knows. */
export function reviewVersionFor(hook: Webhook): 'v1' | 'v1beta1' {
  return hook.admissionReviewVersions.includes('v1') ? 'v1' : 'v1beta1';
}

const MAX_RESPONSE_BYTES = 3 * 1024 * 1024;

interface Target {
  /** the URL as kube-apiserver prints it in errors */
  display: string;
  host: string;
  port: number;
  path: string;
  servername: string | undefined;
}

function targetOf(hook: Webhook, resolve: ResolveService): Target {
  const timeout = `timeout=${hook.timeoutSeconds ?? 10}s`;
  const cc = hook.clientConfig;
  if (cc.url) {
    const u = new URL(cc.url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const path = `${u.pathname || '/'}?${timeout}`;
    return { display: `${u.origin}${path}`, host, port: Number(u.port || 443), path, servername: isIP(host) ? undefined : host };
  }
  const svc = cc.service!;
  const ep = resolve(svc);
  const path = `${svc.path ?? '/'}?${timeout}`;
  return { display: `https://${svc.name}.${svc.namespace}.svc:${svc.port ?? 443}${path}`, host: ep.host, port: ep.port, path, servername: ep.servername };
}

/** POSTs the review and returns its response; throws WebhookCallError. */
export async function callWebhook(hook: Webhook, review: object, uid: string, resolve: ResolveService): Promise<ReviewResponse> {
  const target = targetOf(hook, resolve);
  const body = Buffer.from(JSON.stringify(review));
  const ca = hook.clientConfig.caBundle ? caCertificates(hook.clientConfig.caBundle) : undefined;
  const timeoutMs = (hook.timeoutSeconds ?? 10) * 1000;
  const failed = (why: string): WebhookCallError => new WebhookCallError('WEBHOOK_CALL_FAILED', `failed to call webhook: Post "${target.display}": ${why}`);
  const raw = await new Promise<{ status: number; text: string }>((resolvePromise, reject) => {
    const req = request({
      host: target.host, port: target.port, method: 'POST', path: target.path,
      ...(target.servername ? { servername: target.servername } : {}),
      // Only the caBundle vouches for the webhook when one is given; otherwise the system's roots.
      ...(ca && ca.length > 0 ? { ca } : {}),
      rejectUnauthorized: true,
      agent: false,
      headers: { 'content-type': 'application/json', accept: 'application/json, */*', 'content-length': body.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('the webhook\'s response is too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error('context deadline exceeded')), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => reject(e));
    req.end(body);
  }).catch((e: Error) => {
    throw failed(tlsWording(e));
  });
  if (raw.status < 200 || raw.status > 299) {
    throw failed(`the server responded with HTTP ${raw.status}${raw.text ? `: ${raw.text.trim().slice(0, 200)}` : ''}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.text);
  } catch {
    throw new WebhookCallError('WEBHOOK_BAD_RESPONSE', 'received invalid webhook response: the response is not JSON');
  }
  const response = (parsed as { response?: ReviewResponse } | null)?.response;
  if (!response || typeof response !== 'object') throw new WebhookCallError('WEBHOOK_BAD_RESPONSE', 'received invalid webhook response: webhook response was absent');
  if (response.uid !== uid) throw new WebhookCallError('WEBHOOK_BAD_RESPONSE', `received invalid webhook response: expected response.uid="${uid}", got "${String(response.uid)}"`);
  if (typeof response.allowed !== 'boolean') throw new WebhookCallError('WEBHOOK_BAD_RESPONSE', 'received invalid webhook response: response.allowed is not a boolean');
  return response;
}

/** Node's TLS failures in the words Go's crypto/x509 uses for the same cases (what kube-apiserver prints). */
function tlsWording(e: Error & { code?: string }): string {
  switch (e.code) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `tls: failed to verify certificate: x509: certificate signed by unknown authority (${e.message})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: ${e.message}`;
    case 'ECONNREFUSED':
      return `dial tcp: connect: connection refused (${e.message})`;
    default:
      return e.message;
  }
}
