/**
 * Defaulting and validation of webhook configurations, as kube-apiserver's admissionregistration
 * strategy does them for v1: defaults first (failurePolicy Fail, matchPolicy Equivalent, empty
 * selectors, timeoutSeconds 10, rule scope `*`, reinvocationPolicy Never, service port 443), then one
 * StatusCause per problem with kube-apiserver's field paths and wording (`webhooks[0].sideEffects:
 * Required value: …`). The caller turns the causes into a 422 Invalid.
 */
import { X509Certificate } from 'node:crypto';
import type { LabelSelector } from '../../api/types.js';
import type { StatusCause } from '../apiserver/status.js';
import { TypedCauses } from '../schema/index.js';
import { MUTATING_KIND, REVIEW_VERSIONS, type RuleWithOperations, type ServiceReference, type Webhook, type WebhookClientConfig, type WebhookConfiguration, type WebhookConfigKind } from './types.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fills in what kube-apiserver defaults for admissionregistration.k8s.io/v1 (a copy). */
export function withDefaults(config: WebhookConfiguration, kind: WebhookConfigKind): WebhookConfiguration {
  const out = structuredClone(config);
  if (!Array.isArray(out.webhooks)) return out;
  out.webhooks = out.webhooks.map((w) => {
    if (!isObject(w)) return w;
    const d: Webhook = { ...w };
    d.failurePolicy ??= 'Fail';
    d.matchPolicy ??= 'Equivalent';
    d.namespaceSelector ??= {};
    d.objectSelector ??= {};
    d.timeoutSeconds ??= 10;
    if (kind === MUTATING_KIND) d.reinvocationPolicy ??= 'Never';
    if (Array.isArray(d.rules)) d.rules = d.rules.map((r: RuleWithOperations): RuleWithOperations => (typeof r === 'object' && r !== null ? { ...r, scope: r.scope ?? '*' } : r));
    const cc = d.clientConfig as WebhookClientConfig | undefined;
    const svc = isObject(cc) && isObject(cc.service) ? (cc.service as unknown as ServiceReference) : undefined;
    if (cc && svc) d.clientConfig = { ...cc, service: { ...svc, port: svc.port ?? 443 } };
    return d;
  });
  return out;
}

/** The problems of a (defaulted) configuration; empty when it is valid. */
export function validateWebhookConfiguration(config: WebhookConfiguration, kind: WebhookConfigKind): StatusCause[] {
  const c = new TypedCauses();
  const webhooks = config.webhooks ?? [];
  if (!Array.isArray(webhooks)) {
    c.invalid('webhooks', webhooks, 'must be a list');
    return c.list;
  }
  const names = new Set<string>();
  webhooks.forEach((w, i) => {
    const at = `webhooks[${i}]`;
    if (!isObject(w)) {
      c.invalid(at, w, 'must be an object');
      return;
    }
    const hook = w as unknown as Webhook;
    if (typeof hook.name !== 'string' || hook.name === '') c.required(`${at}.name`);
    else {
      validateWebhookName(c, `${at}.name`, hook.name);
      if (names.has(hook.name)) c.duplicate(`${at}.name`, hook.name);
      names.add(hook.name);
    }
    (Array.isArray(hook.rules) ? hook.rules : []).forEach((r, j) => validateRule(c, `${at}.rules[${j}]`, r));
    if (!['Ignore', 'Fail'].includes(String(hook.failurePolicy))) c.notSupported(`${at}.failurePolicy`, hook.failurePolicy, ['Fail', 'Ignore']);
    if (!['Exact', 'Equivalent'].includes(String(hook.matchPolicy))) c.notSupported(`${at}.matchPolicy`, hook.matchPolicy, ['Equivalent', 'Exact']);
    if (hook.sideEffects === undefined) c.required(`${at}.sideEffects`, 'must specify one of None, NoneOnDryRun');
    else if (!['None', 'NoneOnDryRun'].includes(String(hook.sideEffects))) c.notSupported(`${at}.sideEffects`, hook.sideEffects, ['None', 'NoneOnDryRun']);
    validateReviewVersions(c, `${at}.admissionReviewVersions`, hook.admissionReviewVersions);
    const timeout = hook.timeoutSeconds;
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 30) {
      c.invalid(`${at}.timeoutSeconds`, timeout, 'the timeout value must be between 1 and 30 seconds');
    }
    validateSelector(c, `${at}.namespaceSelector`, hook.namespaceSelector);
    validateSelector(c, `${at}.objectSelector`, hook.objectSelector);
    if (kind === MUTATING_KIND) {
      if (!['Never', 'IfNeeded'].includes(String(hook.reinvocationPolicy))) c.notSupported(`${at}.reinvocationPolicy`, hook.reinvocationPolicy, ['IfNeeded', 'Never']);
    } else if (hook.reinvocationPolicy !== undefined) {
      // ValidatingWebhook has no such field: kube-apiserver's decoder drops it; refusing says why it has no effect
      c.forbidden(`${at}.reinvocationPolicy`, 'only mutating webhooks are reinvoked');
    }
    if (Array.isArray(hook.matchConditions) && hook.matchConditions.length > 0) {
      c.forbidden(`${at}.matchConditions`, 'matchConditions (CEL expressions) are not supported by this API server; use namespaceSelector and objectSelector');
    }
    validateClientConfig(c, `${at}.clientConfig`, hook.clientConfig);
  });
  return c.list;
}

/** A webhook's name is a fully qualified domain name of at least three labels (e.g. `inject.fsm.flomesh.io`). */
function validateWebhookName(c: TypedCauses, field: string, name: string): void {
  const labels = name.split('.');
  const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (name.length > 253 || !dns1123.test(name)) {
    c.invalid(field, name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }
  if (labels.length < 3) c.invalid(field, name, 'should be a domain with at least three segments separated by dots');
}

const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];

function validateRule(c: TypedCauses, at: string, raw: unknown): void {
  if (!isObject(raw)) {
    c.invalid(at, raw, 'must be an object');
    return;
  }
  const r = raw as RuleWithOperations;
  const ops = r.operations ?? [];
  if (ops.length === 0) c.required(`${at}.operations`);
  if (ops.length > 1 && ops.includes('*')) c.invalid(`${at}.operations`, ops, "if '*' is present, must not specify other operations");
  ops.forEach((o, k) => {
    if (!OPERATIONS.includes(o)) c.notSupported(`${at}.operations[${k}]`, o, OPERATIONS);
  });
  const groups = r.apiGroups ?? [];
  if (groups.length === 0) c.required(`${at}.apiGroups`);
  if (groups.length > 1 && groups.includes('*')) c.invalid(`${at}.apiGroups`, groups, "if '*' is present, must not specify other API groups");
  const versions = r.apiVersions ?? [];
  if (versions.length === 0) c.required(`${at}.apiVersions`);
  if (versions.length > 1 && versions.includes('*')) c.invalid(`${at}.apiVersions`, versions, "if '*' is present, must not specify other API versions");
  versions.forEach((v, k) => {
    if (v === '') c.required(`${at}.apiVersions[${k}]`);
  });
  validateResources(c, `${at}.resources`, r.resources ?? []);
  if (r.scope !== undefined && !['*', 'Cluster', 'Namespaced'].includes(r.scope)) c.notSupported(`${at}.scope`, r.scope, ['*', 'Cluster', 'Namespaced']);
}

/** `pods`, `pods/status`, `pods/*`, `*`, `*\/status`, `*\/*`, with kube-apiserver's rules on combining them. */
function validateResources(c: TypedCauses, at: string, resources: string[]): void {
  if (resources.length === 0) c.required(at);
  const wildcardSub = new Set<string>(); // x/*
  const wildcardRes = new Set<string>(); // */x
  let doubleWildcard = false;
  let singleWildcard = false;
  let plainResource = false;
  resources.forEach((rs, i) => {
    if (rs === '') {
      c.required(`${at}[${i}]`);
      return;
    }
    if (rs === '*/*') doubleWildcard = true;
    if (rs === '*') singleWildcard = true;
    const slash = rs.indexOf('/');
    if (slash < 0) {
      if (rs !== '*') plainResource = true;
      return;
    }
    const res = rs.slice(0, slash);
    const sub = rs.slice(slash + 1);
    if (wildcardSub.has(res)) c.invalid(`${at}[${i}]`, rs, `if '${res}/*' is present, must not specify ${rs}`);
    if (wildcardRes.has(sub)) c.invalid(`${at}[${i}]`, rs, `if '*/${sub}' is present, must not specify ${rs}`);
    if (sub === '*') wildcardSub.add(res);
    if (res === '*') wildcardRes.add(sub);
  });
  if (resources.length > 1 && doubleWildcard) c.invalid(at, resources, "if '*/*' is present, must not specify other resources");
  if (singleWildcard && plainResource) c.invalid(at, resources, "if '*' is present, must not specify other resources without subresources");
}

function validateReviewVersions(c: TypedCauses, at: string, versions: unknown): void {
  const list = Array.isArray(versions) ? (versions as unknown[]) : [];
  if (list.length === 0) {
    c.required(at, `must specify one of ${REVIEW_VERSIONS.join(', ')}`);
    return;
  }
  const seen = new Set<string>();
  list.forEach((v, i) => {
    if (typeof v !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) c.invalid(`${at}[${i}]`, v, 'a DNS-1035 label is required');
    else if (seen.has(v)) c.invalid(`${at}[${i}]`, v, 'duplicate version');
    seen.add(String(v));
  });
  if (!list.some((v) => (REVIEW_VERSIONS as readonly unknown[]).includes(v))) c.invalid(at, list, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`);
}

function validateSelector(c: TypedCauses, at: string, raw: unknown): void {
  if (raw === undefined || raw === null) return;
  if (!isObject(raw)) {
    c.invalid(at, raw, 'must be a label selector');
    return;
  }
  const s = raw as LabelSelector;
  const label = /^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) {
    if (!validLabelKey(k)) c.invalid(`${at}.matchLabels`, k, 'name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character');
    if (typeof v !== 'string' || (v !== '' && !label.test(v))) c.invalid(`${at}.matchLabels`, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  }
  (s.matchExpressions ?? []).forEach((e, i) => {
    const ea = `${at}.matchExpressions[${i}]`;
    if (!isObject(e)) {
      c.invalid(ea, e, 'must be a label selector requirement');
      return;
    }
    if (typeof e.key !== 'string' || !validLabelKey(e.key)) c.invalid(`${ea}.key`, e.key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
    const values = Array.isArray(e.values) ? e.values : [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) c.required(`${ea}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) c.forbidden(`${ea}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
      c.invalid(`${ea}.operator`, e.operator, 'not a valid selector operator');
    }
  });
}

function validLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  if (!/^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/.test(name)) return false;
  return prefix === undefined || (prefix.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix));
}

function validateClientConfig(c: TypedCauses, at: string, raw: unknown): void {
  if (!isObject(raw)) {
    c.required(at, 'exactly one of url or service is required');
    return;
  }
  const cc = raw as Record<string, unknown>;
  const hasUrl = cc.url !== undefined && cc.url !== null;
  const hasService = cc.service !== undefined && cc.service !== null;
  if (hasUrl === hasService) c.required(at, 'exactly one of url or service is required');
  if (hasUrl) validateUrl(c, `${at}.url`, cc.url);
  if (hasService) validateService(c, `${at}.service`, cc.service);
  if (cc.caBundle !== undefined && cc.caBundle !== null && cc.caBundle !== '') validateCaBundle(c, `${at}.caBundle`, cc.caBundle);
}

function validateUrl(c: TypedCauses, at: string, raw: unknown): void {
  if (typeof raw !== 'string' || raw === '') {
    c.required(at, 'url must be a non-empty string');
    return;
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    c.invalid(at, raw, 'url must be a valid URL');
    return;
  }
  if (u.protocol !== 'https:') c.invalid(at, raw, "'https' is the only allowed URL scheme");
  if (u.hostname === '') c.invalid(at, raw, 'host must be specified');
  if (u.username !== '' || u.password !== '') c.invalid(at, raw, 'user information is not permitted in the URL');
  if (u.hash !== '' || raw.includes('#')) c.invalid(at, raw, 'fragments are not permitted in the URL');
  if (u.search !== '' || raw.includes('?')) c.invalid(at, raw, 'query parameters are not permitted in the URL');
}

function validateService(c: TypedCauses, at: string, raw: unknown): void {
  if (!isObject(raw)) {
    c.invalid(at, raw, 'must be a service reference');
    return;
  }
  if (typeof raw.name !== 'string' || raw.name === '') c.required(`${at}.name`, 'service name is required');
  if (typeof raw.namespace !== 'string' || raw.namespace === '') c.required(`${at}.namespace`, 'service namespace is required');
  const port = raw.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) c.invalid(`${at}.port`, port, 'port is not valid: must be between 1 and 65535, inclusive');
  if (raw.path !== undefined) {
    const path = raw.path;
    if (typeof path !== 'string' || !path.startsWith('/')) c.invalid(`${at}.path`, path, "must start with a '/'");
    else if (path.split('/').slice(1).some((s) => s === '' && path !== '/')) c.invalid(`${at}.path`, path, 'segment[1]: may not be empty');
  }
}

/**
 * caBundle is bytes (base64 in JSON). kube-apiserver stores any bytes and fails only when it calls the
 * webhook; here a bundle that holds no PEM certificate is refused at once (a documented deviation).
 */
function validateCaBundle(c: TypedCauses, at: string, raw: unknown): void {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(raw.replace(/\s+/g, ''))) {
    c.invalid(at, typeof raw === 'string' ? '<bytes>' : raw, 'must be base64-encoded PEM certificates');
    return;
  }
  if (caCertificates(raw).length === 0) c.invalid(at, '<bytes>', 'must hold at least one PEM-encoded certificate');
}

/** The PEM certificates of a base64 caBundle that parse (possibly none). */
export function caCertificates(caBundle: string): string[] {
  const pem = Buffer.from(caBundle, 'base64').toString('utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.filter((b) => {
    try {
      new X509Certificate(b);
      return true;
    } catch {
      return false;
    }
  });
}
