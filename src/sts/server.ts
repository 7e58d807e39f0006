/**
 * tessera-sts's HTTP surface: `POST /token` (client credentials, token exchange),
 * `GET /.well-known/openid-configuration`, `GET /jwks.json` and `GET /metrics` (requests by grant and
 * result). Every issuance and refusal is logged with caller, subject, actor and audience; what may be
 * issued is the policy's decision (policy.ts). A caller is, in this order:
 * - a client with a secret (Basic or form);
 * - a workload by a client certificate of the mesh CA (`tls_client_auth`, RFC 8705): with `tls`, the
 *   server speaks TLS, asks for a certificate and takes the identity from its verified SPIFFE URI
 *   SAN. A certificate whose identity is one of `sidecarIdentities` (the pod's own sidecar) may
 *   vouch for its caller with the `serviceidentity` header it sets from that caller's certificate;
 * - the `serviceidentity` header on a plain connection from one of `sidecarAddresses`: a source
 *   address, which proves something only where no other process can bind it (a pod's own network
 *   namespace) — in loopback mode any local process can; docs/security.md says so. Leave it empty
 *   to trust certificates only.
 */
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { istioPrincipal, parseServiceIdentity, parseSpiffeId } from '../identity/service-identity.js';
import { plainAddress } from '../lib/cidr.js';
import { callerName, Grants, TOKEN_EXCHANGE, type Caller, type GrantOptions, type GrantResult } from './grants.js';
import { withClientAudiences } from './policy.js';

export interface StsClient {
  /** sha256 of the secret, so the secret itself is not kept in memory longer than parsing */
  secretSha256: Buffer;
  /** audiences this client may request (an issue grant for `client:ID`); more only by the policy */
  audiences?: string[];
}

export interface StsServerOptions extends GrantOptions {
  clients: ReadonlyMap<string, StsClient>;
  /** remote addresses of the pod's own sidecar whose `serviceidentity` header is believed on plain connections (see above) */
  sidecarAddresses: ReadonlySet<string>;
  /** serve TLS and authenticate workloads by client certificates chaining to `clientCa` (the mesh trust bundle) */
  tls?: { cert: string; key: string; clientCa: string | string[] };
  /** identities (`sa.ns`) whose certificate may vouch for a caller with `serviceidentity` (the pod's own sidecar) */
  sidecarIdentities?: ReadonlySet<string>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  // RFC 6749 §5.1: token responses must not be cached.
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) return undefined;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    if ((size += c.length) > 64 * 1024) return undefined;
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** RFC 6749 §2.3.1 form-urlencoding inside Basic; undefined when the percent-encoding is malformed. */
function formDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Client secret (Basic or form) when given; otherwise the mesh identity; else undefined. */
function authenticate(opts: StsServerOptions, req: IncomingMessage, form: URLSearchParams): Caller | 'bad-client' | undefined {
  let id: string | null = null;
  let secret: string | null = null;
  const auth = req.headers.authorization ?? '';
  if (/^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return 'bad-client';
    // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic; malformed credentials are a bad client, not a 500.
    const rawId = formDecode(decoded.slice(0, i));
    const rawSecret = formDecode(decoded.slice(i + 1));
    if (rawId === undefined || rawSecret === undefined) return 'bad-client';
    id = rawId;
    secret = rawSecret;
  } else if (form.has('client_secret')) {
    id = form.get('client_id');
    secret = form.get('client_secret');
  }
  if (secret !== null) {
    const client = id !== null ? opts.clients.get(id) : undefined;
    if (!client || !timingSafeEqual(sha256(secret), client.secretSha256)) return 'bad-client';
    return { kind: 'client', clientId: id! };
  }
  const identity = req.headers['serviceidentity'];
  const peer = verifiedPeer(req);
  if (peer !== undefined) {
    // A certificate of the mesh CA: the caller itself, or the pod's sidecar speaking for its caller.
    if (typeof identity === 'string' && opts.sidecarIdentities?.has(peer)) {
      try {
        return { kind: 'workload', principal: istioPrincipal(parseServiceIdentity(identity)) };
      } catch {
        return undefined;
      }
    }
    return { kind: 'workload', principal: istioPrincipal(parseServiceIdentity(peer)) };
  }
  if ((req.socket as Partial<TLSSocket>).encrypted) return undefined; // TLS without a valid certificate: no address trust either
  if (typeof identity === 'string' && opts.sidecarAddresses.has(plainAddress(req.socket.remoteAddress ?? ''))) {
    try {
      return { kind: 'workload', principal: istioPrincipal(parseServiceIdentity(identity)) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The identity (`sa.ns`) of a client certificate the TLS layer verified against the mesh CA, if any. */
function verifiedPeer(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || !socket.authorized || !socket.getPeerX509Certificate) return undefined;
  const cert: X509Certificate | undefined = socket.getPeerX509Certificate();
  const uri = (cert?.subjectAltName ?? '').split(', ').find((n) => n.startsWith('URI:spiffe://'))?.slice(4);
  if (!uri) return undefined;
  try {
    const id = parseSpiffeId(uri);
    return id;
  } catch {
    return undefined;
  }
}

/** What `/metrics` counts: requests by grant type and result (`issued` or the OAuth error code). */
class RequestCounts {
  private readonly counts = new Map<string, number>();
  add(grant: string, result: string): void {
    const key = `grant=${JSON.stringify(grant)},result=${JSON.stringify(result)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  text(): string {
    let out = '# HELP tessera_sts_token_requests_total Token requests by grant type and result (issued, or the OAuth error returned)\n';
    out += '# TYPE tessera_sts_token_requests_total counter\n';
    for (const [labels, n] of this.counts) out += `tessera_sts_token_requests_total{${labels}} ${n}\n`;
    return out;
  }
}

/** The grant label: the two this service serves by name, anything else as `other` (no caller-chosen label values). */
const grantLabel = (g: string | null): string => (g === 'client_credentials' ? g : g === TOKEN_EXCHANGE ? 'token-exchange' : 'other');

export function createStsServer(opts: StsServerOptions): Server {
  const grants = new Grants({ ...opts, policy: withClientAudiences(opts.policy, opts.clients) });
  const log = opts.log ?? (() => undefined);
  const counts = new RequestCounts();
  const discovery = (): Record<string, unknown> => ({
    issuer: opts.issuer,
    jwks_uri: `${opts.issuer}/jwks.json`,
    token_endpoint: `${opts.issuer}/token`,
    grant_types_supported: ['client_credentials', TOKEN_EXCHANGE],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'tls_client_auth'],
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [opts.keys.alg],
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') return send(res, 200, discovery());
    if (req.method === 'GET' && path === '/jwks.json') return send(res, 200, opts.keys.jwks(), { 'cache-control': 'max-age=60' });
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true });
    if (req.method === 'GET' && path === '/metrics') {
      const text = counts.text();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) }).end(text);
      return;
    }
    if (path !== '/token') return send(res, 404, { error: 'not_found' });
    if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request', error_description: 'use POST' });
    const form = await readForm(req);
    if (!form) return send(res, 400, { error: 'invalid_request', error_description: 'send application/x-www-form-urlencoded, at most 64 KiB' });
    const caller = authenticate(opts, req, form);
    if (caller === undefined || caller === 'bad-client') {
      counts.add(grantLabel(form.get('grant_type')), 'invalid_client');
      log('token request refused: caller not authenticated', { source: plainAddress(req.socket.remoteAddress ?? ''), badSecret: caller === 'bad-client' });
      return send(res, 401, { error: 'invalid_client', error_description: 'authenticate with mTLS through the mesh or a client secret' }, { 'www-authenticate': 'Basic realm="tessera-sts"' });
    }
    const grant = form.get('grant_type');
    const r =
      grant === 'client_credentials'
        ? grants.clientCredentials(caller, form)
        : grant === TOKEN_EXCHANGE
          ? await grants.exchange(caller, form)
          : ({ ok: false, status: 400, error: 'unsupported_grant_type', description: 'use client_credentials or token exchange' } satisfies GrantResult as GrantResult);
    // caller, subject, actor and audience of every answer (the tokens themselves are never logged)
    const who = callerName(caller);
    const exchange = grant === TOKEN_EXCHANGE;
    const fields = { caller: who, grant, audience: form.getAll('audience').join(','), subject: r.subject, actor: exchange ? who : undefined };
    counts.add(grantLabel(grant), r.ok ? 'issued' : r.error);
    if (!r.ok) {
      log('token request refused', { ...fields, error: r.error, reason: r.description });
      return send(res, r.status, { error: r.error, error_description: r.description });
    }
    log('token issued', fields);
    return send(res, 200, r.body);
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: Error) => {
      log('token service error', { error: err.message });
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
    });
  };
  if (!opts.tls) return createServer(listener);
  // Ask for a certificate but do not require one: clients with a secret may have none.
  return createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, listener) as unknown as Server;
}
