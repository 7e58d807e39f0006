/** `deployments/scale`, `pods/log`, `pods/exec|attach`, `pods/proxy` and `services/proxy`. */
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Resource } from '../../api/types.js';
import { applyJsonPatch, applyMergePatch, patchTypeOf } from '../patch/index.js';
import type { LogOptions } from './backend.js';
import type { RequestContext } from './context.js';
import { parseBody, readBody, sendJson } from './http.js';
import { isObject } from './objects.js';
import { getStored, storeUpdate, type Target } from './resources.js';
import { badRequest, conflict, methodNotAllowed, notFound, StatusError } from './status.js';

// ---------------------------------------------------------------------------------------------
// scale

function selectorString(sel: { matchLabels?: Record<string, string> } | undefined): string {
  return Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

function scaleOf(obj: Resource): object {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (obj.status ?? {}) as { replicas?: number };
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: selectorString(spec.selector) },
  };
}

export async function handleScale(ctx: RequestContext, t: Target): Promise<void> {
  const existing = getStored(ctx, t.type, t.info.name!, t.info.namespace);
  if (t.info.verb === 'get') {
    sendJson(t.res, 200, scaleOf(existing));
    return;
  }
  if (t.info.verb !== 'update' && t.info.verb !== 'patch') throw methodNotAllowed(`${t.info.verb} is not supported on ${t.type.plural}/scale`);
  const body = parseBody(await readBody(t.req), t.req.headers['content-type']);
  let scale: unknown;
  if (t.info.verb === 'update') {
    scale = body;
    // Protobuf cannot tell replicas 0 from unset: an update without replicas means 0.
    if (isObject(scale) && isObject(scale.spec) && scale.spec.replicas === undefined) scale.spec.replicas = 0;
    if (isObject(scale) && scale.spec === undefined) scale.spec = { replicas: 0 };
  }
  else {
    const kind = patchTypeOf(t.req.headers['content-type'] ?? '');
    const current = scaleOf(existing);
    // Scale has no lists, so a strategic merge patch means the same as a merge patch here.
    scale = kind === 'json' ? applyJsonPatch(current, body) : applyMergePatch(current, body);
  }
  if (!isObject(scale) || !isObject(scale.spec) || !Number.isInteger(scale.spec.replicas) || (scale.spec.replicas as number) < 0) {
    throw new StatusError('Invalid', `Scale.autoscaling "${existing.metadata.name}" is invalid: spec.replicas: Invalid value: must be a non-negative integer`, {
      name: existing.metadata.name, group: 'autoscaling', kind: 'Scale', causes: [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: must be a non-negative integer' }],
    });
  }
  const meta = isObject(scale.metadata) ? scale.metadata : {};
  if (typeof meta.resourceVersion === 'string' && meta.resourceVersion !== '' && meta.resourceVersion !== existing.metadata.resourceVersion) {
    throw conflict(t.type.group, t.type.plural, existing.metadata.name);
  }
  const next = structuredClone(existing);
  next.spec = { ...(next.spec as object), replicas: scale.spec.replicas };
  const mainTarget: Target = { ...t, info: { ...t.info } };
  delete mainTarget.info.subresource;
  const stored = await storeUpdate(ctx, mainTarget, existing, next, t.url.searchParams.getAll('dryRun').length > 0);
  sendJson(t.res, 200, scaleOf(stored));
}

// ---------------------------------------------------------------------------------------------
// pods/log

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`${name}: Invalid value: "${v}": must be a non-negative integer`);
  return n;
}

export async function handleLog(ctx: RequestContext, t: Target): Promise<void> {
  if (!ctx.pods) throw notFound(t.type.group, `${t.type.plural}/log`, t.info.name!);
  const pod = getStored(ctx, t.type, t.info.name!, t.info.namespace);
  const q = t.url.searchParams;
  const opts: LogOptions = { follow: q.get('follow') === 'true', previous: q.get('previous') === 'true', timestamps: q.get('timestamps') === 'true' };
  const container = q.get('container');
  if (container) opts.container = container;
  const tail = intParam(t.url, 'tailLines');
  if (tail !== undefined) opts.tailLines = tail;
  const since = intParam(t.url, 'sinceSeconds');
  if (since !== undefined) opts.sinceSeconds = since;
  const sinceTime = q.get('sinceTime');
  if (sinceTime) {
    if (Number.isNaN(Date.parse(sinceTime)) || !/^\d{4}-\d{2}-\d{2}T/.test(sinceTime)) {
      throw badRequest(`sinceTime: Invalid value: "${sinceTime}": must be an RFC 3339 time`);
    }
    if (since !== undefined) throw badRequest('at most one of sinceTime or sinceSeconds may be specified');
    opts.sinceTime = sinceTime;
  }
  const limit = intParam(t.url, 'limitBytes');
  if (limit !== undefined) opts.limitBytes = limit;
  const abort = new AbortController();
  t.res.on('close', () => abort.abort());
  const stream = await ctx.pods.logs(pod, opts, abort.signal);
  t.res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
  t.res.flushHeaders();
  stream.on('error', () => t.res.end());
  stream.pipe(t.res);
  t.res.on('close', () => stream.destroy());
}

// ---------------------------------------------------------------------------------------------
// pods/proxy

export async function handleProxy(ctx: RequestContext, t: Target): Promise<void> {
  if (!ctx.pods) throw notFound(t.type.group, `${t.type.plural}/proxy`, t.info.name!);
  // `name:port` (or `scheme:name:port`) picks the pod's port, as kube-apiserver's pod proxy does.
  const parts = t.info.name!.split(':');
  const name = parts.length === 3 ? parts[1]! : parts[0]!;
  const portText = parts.length === 3 ? parts[2] : parts[1];
  const port = portText ? Number(portText) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw badRequest(`invalid port "${portText}"`);
  const pod = getStored(ctx, t.type, name, t.info.namespace);
  const path = `/${t.info.subpath ?? ''}${t.url.search}`;
  await ctx.pods.proxy(pod, port, path, t.req, t.res);
}

/** An exec, attach or port-forward upgrade: the pod connector speaks the stream protocol on the socket. */
export async function handleStreamUpgrade(ctx: RequestContext, t: Omit<Target, 'res'>, socket: Duplex, head: Buffer): Promise<void> {
  if (!ctx.pods) throw notFound(t.type.group, `${t.type.plural}/${t.info.subresource}`, t.info.name!);
  const pod = getStored(ctx, t.type, t.info.name!, t.info.namespace);
  if ((pod.status as { phase?: string } | undefined)?.phase !== 'Running') {
    throw badRequest(`unable to upgrade connection: pod ${t.info.name} is not running`);
  }
  if (t.info.subresource === 'portforward') await ctx.pods.portForward(pod, t.req as IncomingMessage, socket, head);
  else await ctx.pods.exec(pod, t.req as IncomingMessage, socket, head, t.url);
}
