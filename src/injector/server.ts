/**
 * The injector's server: `POST /mutate-pod-creation` and an unauthenticated `GET /healthz`.
 * With `tls` (a certificate of the cluster CA, issued at `up`) it serves HTTPS only: the daemon
 * verifies the certificate before it sends its token, so a process squatting the address gets nothing.
 *
 * Two protocols on the one path, told apart by the body:
 *  * the local daemon's `{pod, namespace, meshName}` → `{pod, injected}` (protocol.ts), behind the
 *    bearer token, as before;
 *  * Kubernetes' `AdmissionReview` v1 (admission-review.ts), when the server has `namespaces` (Kubernetes
 *    mode). The API server presents no credential to a webhook by default: it verifies the injector's
 *    certificate with the webhook's caBundle, so a review is answered without the token. Its answer
 *    is a JSON patch, nothing secret; the namespace is read with the injector's own ServiceAccount.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { admit, BadAdmissionReview, denied, isAdmissionReview, namespaceOfRequest, parseAdmissionReview, podOfRequest } from './admission-review.js';
import { isMeshError } from '../lib/errors.js';
import type { NamespaceLookup } from './kube-namespaces.js';
import { InvalidInjectionAnnotation, mutatePod } from './mutation.js';
import { HEALTH_PATH, MUTATE_PATH, type MutationRequest, type NamespaceInfo } from './protocol.js';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Longer than the daemon's keep-alive agent keeps idle sockets, so the server never closes one under a request. */
const KEEP_ALIVE_MS = 65_000;

export interface InjectorServerOptions {
  meshName: string;
  /** the bearer token callers of the daemon's protocol must present (the mesh's API token); none: that protocol is refused */
  token?: string;
  /**
   * Kubernetes mode: how the pod's namespace is read for an AdmissionReview. Without it an
   * AdmissionReview is refused (local mode has no API access of its own).
   */
  namespaces?: NamespaceLookup;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** serving certificate and key (PEM); without them the server speaks plain HTTP (tests) */
  tls?: { cert: string; key: string };
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function createInjectorServer(opts: InjectorServerOptions): Server {
  const expected = opts.token ? digest(opts.token) : undefined;
  const authorized = (req: IncomingMessage): boolean => {
    const m = (req.headers.authorization ?? '').match(/^Bearer\s+(\S+)$/i);
    return expected !== undefined && m !== null && timingSafeEqual(digest(m[1]!), expected);
  };

  const review = async (body: unknown, res: ServerResponse): Promise<void> => {
    if (!opts.namespaces) throw new HttpError(400, 'this injector answers AdmissionReviews only in Kubernetes mode (it has no API access to read namespaces)');
    let request;
    try {
      request = parseAdmissionReview(body);
    } catch (e) {
      if (e instanceof BadAdmissionReview) throw new HttpError(400, e.message);
      throw e;
    }
    let namespace: NamespaceInfo | undefined;
    const nsName = namespaceOfRequest(request);
    if (podOfRequest(request) && nsName) {
      try {
        namespace = await opts.namespaces(nsName);
      } catch (e) {
        // failurePolicy decides nothing here: the webhook answered. Refuse, saying why.
        opts.log?.('cannot read the pod\'s namespace', { namespace: nsName, error: (e as Error).message });
        return send(res, 200, denied(request.uid, `sidecar injector: cannot read namespace ${nsName}: ${(e as Error).message}`, 500, 'InternalError'));
      }
    }
    const answer = admit(request, namespace, opts.meshName);
    const pod = request.object as { metadata?: { name?: string; generateName?: string } } | undefined;
    const podName = `${nsName ?? ''}/${pod?.metadata?.name || `${pod?.metadata?.generateName ?? ''}*`}`;
    if (answer.injected) opts.log?.('injected sidecar', { pod: podName, uid: request.uid });
    else if (answer.review.response?.allowed === false) opts.log?.('refused pod', { pod: podName, uid: request.uid, reason: answer.review.response.status?.message });
    send(res, 200, answer.review);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://injector').pathname;
    if (path === HEALTH_PATH && req.method === 'GET') return send(res, 200, { status: 'ok', meshName: opts.meshName });
    if (path !== MUTATE_PATH) throw new HttpError(404, `no route for ${req.method} ${path}`);
    if (req.method !== 'POST') throw new HttpError(405, `${MUTATE_PATH} takes POST`);
    const ok = authorized(req);
    // Without the token only an AdmissionReview gets an answer, and only in Kubernetes mode.
    if (!ok && !opts.namespaces) throw new HttpError(401, 'missing or wrong bearer token');
    const body = await readBody(req);
    if (isAdmissionReview(body)) return review(body, res);
    if (!ok) throw new HttpError(401, 'missing or wrong bearer token');
    const request = parseRequest(body);
    if (request.meshName !== opts.meshName) throw new HttpError(400, `this injector serves mesh "${opts.meshName}", not "${request.meshName}"`);
    // Local runtimes probe apps on their own address, past interception: probes stay as written.
    const result = mutatePod(request.pod, request.namespace, opts.meshName, { rewriteProbes: false });
    if (result.injected) opts.log?.('injected sidecar', { pod: `${request.namespace.name}/${request.pod.metadata.name}` });
    send(res, 200, result);
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      const refused = err instanceof InvalidInjectionAnnotation || (isMeshError(err) && err.code === 'MESH_ERR_MANIFEST_INVALID');
      const status = err instanceof HttpError ? err.status : refused ? 400 : 500;
      send(res, status, { error: { message: (err as Error).message } });
    });
  };
  // An https.Server has every http.Server method the pod process uses (listen, close*, keepAliveTimeout).
  const server = opts.tls
    ? (createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, listener) as unknown as Server)
    : createServer(listener);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return server;
}

function parseRequest(body: unknown): MutationRequest {
  const b = body as Partial<MutationRequest> | undefined;
  if (!b || typeof b !== 'object') throw new HttpError(400, 'body must be {pod, namespace, meshName}');
  if (b.pod?.kind !== 'Pod' || typeof b.pod.metadata?.name !== 'string' || !Array.isArray(b.pod.spec?.containers)) {
    throw new HttpError(400, 'body.pod must be a Pod with metadata.name and spec.containers');
  }
  if (typeof b.namespace?.name !== 'string') throw new HttpError(400, 'body.namespace.name is required');
  if (typeof b.meshName !== 'string') throw new HttpError(400, 'body.meshName is required');
  return b as MutationRequest;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': data.length });
  res.end(data);
}
