/**
 * `tessera oidc-login`: kubectl's exec credential plugin for OpenID Connect, as kubelogin
 * (`kubectl oidc-login`) is — the tool the auth book's chapter "Implementing RBAC in Kubernetes with
 * FusionAuth" uses.
 *
 * - `get-token` prints an `ExecCredential` (client.authentication.k8s.io/v1 or v1beta1, whichever
 *   kubectl asks for in KUBERNETES_EXEC_INFO) with the id token and its expiry. The token comes from
 *   the cache (`~/.kube/cache/oidc-login`, a 0700 folder of 0600 files, one per issuer/client/scopes),
 *   else from the refresh token, else from a login: the authorization code flow with PKCE (S256),
 *   `state` and `nonce`, redirected to a loopback HTTP server (RFC 8252 §7.3). The browser is opened
 *   on that server's URL, which redirects to the provider. Every id token received is verified
 *   before it is stored or printed: signature by the issuer's JWKS (found by discovery), `iss`, `aud`,
 *   `exp`, and for a login the `nonce`, with the strict verifier of src/authn/jwt.
 * - `setup` logs in the same way, prints the id token's claims (as the book shows), and the
 *   `kubectl config set-credentials` command and kubeconfig user stanza that make kubectl run
 *   `tessera oidc-login get-token`.
 * - `clean` removes the token cache (logs out), as `rm -rf ~/.kube/cache/oidc-login` does.
 *
 * Only the ExecCredential goes to stdout; messages go to stderr and never include a token.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Agent, fetch as undiciFetch } from 'undici';
import { stringify as toYaml } from 'yaml';
import { ALL_ALGORITHMS, compileJwtPolicy, RemoteJwks, verifyJwtAsync, type JwtAlgorithm, type JwtClaims } from '../../authn/index.js';
import { MeshError } from '../../lib/errors.js';
import type { CliDeps } from '../deps.js';
import { collectRaw } from './common.js';

const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';
const ASYMMETRIC = ALL_ALGORITHMS.filter((a) => !a.startsWith('HS'));

export interface OidcLoginOptions {
  issuerUrl: string;
  clientId: string;
  clientSecret?: string;
  extraScopes: string[];
  /** PEM text of the CA(s) the issuer's certificate must chain to */
  ca?: string;
  insecureSkipTlsVerify: boolean;
  /** host:port candidates for the loopback server, tried in order */
  listenAddresses: string[];
  /** the redirect URI's host (default: the host the server listens on) */
  redirectHostname?: string;
  skipOpenBrowser: boolean;
  /** a command run with the URL to open as its one argument (default: xdg-open/open) */
  browserCommand?: string;
  tokenCacheDir: string;
  timeoutMs: number;
  signingAlgs: JwtAlgorithm[];
}

interface CachedTokens {
  id_token: string;
  refresh_token?: string;
}

interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

class LoginError extends MeshError {
  constructor(message: string) {
    super('MESH_ERR_USAGE', message);
  }
}

// ------------------------------------------------------------------------------------------------
// options

interface RawFlags {
  oidcIssuerUrl?: string;
  oidcClientId?: string;
  oidcClientSecret?: string;
  oidcExtraScope?: string[];
  certificateAuthority?: string;
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  listenAddress?: string[];
  redirectUrlHostname?: string;
  skipOpenBrowser?: boolean;
  browserCommand?: string;
  tokenCacheDir?: string;
  authenticationTimeoutSec?: string;
  oidcSigningAlgs?: string;
}

function homeOf(deps: CliDeps): string {
  return deps.env['HOME'] || homedir();
}

function expandHome(p: string, deps: CliDeps): string {
  if (p === '~' || p.startsWith('~/')) return join(homeOf(deps), p.slice(1));
  return isAbsolute(p) ? p : resolve(deps.cwd, p);
}

export function loginOptionsOf(f: RawFlags, deps: CliDeps): OidcLoginOptions {
  const problems: string[] = [];
  if (!f.oidcIssuerUrl) problems.push('--oidc-issuer-url is required');
  if (!f.oidcClientId) problems.push('--oidc-client-id is required');
  let issuer: URL | undefined;
  try {
    if (f.oidcIssuerUrl) issuer = new URL(f.oidcIssuerUrl);
  } catch {
    problems.push(`--oidc-issuer-url ${JSON.stringify(f.oidcIssuerUrl)} is not a URL`);
  }
  if (issuer && issuer.protocol !== 'https:') problems.push(`--oidc-issuer-url (${f.oidcIssuerUrl}) must use https scheme`);
  let ca: string | undefined;
  if (f.certificateAuthority) {
    const file = expandHome(f.certificateAuthority, deps);
    try {
      ca = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push(`--certificate-authority ${file}: ${(e as Error).message}`);
    }
  }
  if (f.certificateAuthorityData) ca = `${ca ?? ''}${Buffer.from(f.certificateAuthorityData, 'base64').toString('utf8')}`;
  const timeoutSec = Number(f.authenticationTimeoutSec ?? '180');
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) problems.push('--authentication-timeout-sec must be a positive number');
  const algs = (f.oidcSigningAlgs ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
  for (const a of algs) if (!(ASYMMETRIC as readonly string[]).includes(a)) problems.push(`--oidc-signing-algs: unsupported signing alg: ${a}`);
  const listen = f.listenAddress && f.listenAddress.length > 0 ? f.listenAddress : ['127.0.0.1:8000', '127.0.0.1:18000'];
  for (const l of listen) if (!/^[^:]+:\d+$|^\[[0-9a-f:.]+\]:\d+$/i.test(l)) problems.push(`--listen-address ${JSON.stringify(l)}: expected host:port`);
  if (problems.length > 0) throw new MeshError('MESH_ERR_USAGE', problems.join('; '));
  return {
    issuerUrl: f.oidcIssuerUrl!,
    clientId: f.oidcClientId!,
    ...(f.oidcClientSecret ? { clientSecret: f.oidcClientSecret } : {}),
    extraScopes: (f.oidcExtraScope ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== ''),
    ...(ca !== undefined ? { ca } : {}),
    insecureSkipTlsVerify: f.insecureSkipTlsVerify === true,
    listenAddresses: listen,
    ...(f.redirectUrlHostname ? { redirectHostname: f.redirectUrlHostname } : {}),
    skipOpenBrowser: f.skipOpenBrowser === true,
    ...(f.browserCommand ? { browserCommand: f.browserCommand } : {}),
    tokenCacheDir: expandHome(f.tokenCacheDir ?? '~/.kube/cache/oidc-login', deps),
    timeoutMs: timeoutSec * 1000,
    signingAlgs: (algs.length > 0 ? algs : ASYMMETRIC) as JwtAlgorithm[],
  };
}

// ------------------------------------------------------------------------------------------------
// the token cache

/** One file per issuer, client and scopes (the secret is part of the key, never stored in clear). */
export function cacheFile(o: OidcLoginOptions): string {
  const key = JSON.stringify({ issuer: o.issuerUrl, clientId: o.clientId, clientSecret: o.clientSecret ?? '', scopes: [...o.extraScopes].sort() });
  return join(o.tokenCacheDir, createHash('sha256').update(key).digest('hex'));
}

function readCache(file: string): CachedTokens | undefined {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Partial<CachedTokens>;
    if (typeof c.id_token !== 'string') return undefined;
    return { id_token: c.id_token, ...(typeof c.refresh_token === 'string' ? { refresh_token: c.refresh_token } : {}) };
  } catch {
    return undefined;
  }
}

function writeCache(file: string, dir: string, tokens: CachedTokens): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(tokens)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The payload of a JWT, unverified (only to read `exp` of a token verified when it was stored). */
function unverifiedClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    return c !== null && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function expiryOf(token: string): number | undefined {
  const exp = unverifiedClaims(token)?.['exp'];
  return typeof exp === 'number' ? exp * 1000 : undefined;
}

// ------------------------------------------------------------------------------------------------
// talking to the provider

/** A fetch for the provider: HTTPS only, trusting `ca` when given (or nothing, with --insecure-skip-tls-verify). */
function providerFetch(o: OidcLoginOptions): typeof fetch {
  const connect = { ...(o.ca !== undefined ? { ca: o.ca } : {}), ...(o.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}) };
  const dispatcher = Object.keys(connect).length > 0 ? new Agent({ connect }) : undefined;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('https://')) throw new TypeError(`refusing to fetch ${url}: the provider is only spoken to over HTTPS`);
    return undiciFetch(url, { ...(init as object), ...(dispatcher ? { dispatcher } : {}) } as Parameters<typeof undiciFetch>[1]);
  }) as unknown as typeof fetch;
}

class Provider {
  private metadata: ProviderMetadata | undefined;
  private jwks: RemoteJwks | undefined;

  constructor(private readonly o: OidcLoginOptions, private readonly fetchImpl: typeof fetch, private readonly now: () => number) {}

  async discover(): Promise<ProviderMetadata> {
    if (this.metadata) return this.metadata;
    const url = `${this.o.issuerUrl.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new LoginError(`oidc discovery: ${url}: ${causeOf(e)}`);
    }
    if (!res.ok) throw new LoginError(`oidc discovery: ${url}: HTTP ${res.status}`);
    const m = (await res.json()) as Partial<ProviderMetadata>;
    // OpenID Connect Discovery §4.3: the document must name exactly the issuer asked for
    if (m.issuer !== this.o.issuerUrl) throw new LoginError(`oidc discovery: issuer did not match the issuer returned by provider, expected "${this.o.issuerUrl}" got "${String(m.issuer)}"`);
    for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      if (typeof m[k] !== 'string' || !m[k]!.startsWith('https://')) throw new LoginError(`oidc discovery: ${k} missing or not https`);
    }
    this.metadata = m as ProviderMetadata;
    return this.metadata;
  }

  /** Verifies an id token as the API server will (and the nonce of a login); returns its claims. */
  async verify(idToken: string, nonce: string | undefined): Promise<JwtClaims> {
    const m = await this.discover();
    this.jwks ??= new RemoteJwks({ jwksUri: m.jwks_uri, fetch: this.fetchImpl });
    const policy = compileJwtPolicy({ issuer: this.o.issuerUrl, audiences: [this.o.clientId], keys: this.jwks, algorithms: this.o.signingAlgs, requireExpiration: true, maxTokenBytes: 16384, cache: false });
    const r = await verifyJwtAsync(idToken, policy, this.now());
    if (!r.ok) throw new LoginError(`the provider's id token does not verify: ${r.message}`);
    if (nonce !== undefined && r.claims['nonce'] !== nonce) throw new LoginError('the provider\'s id token does not verify: nonce does not match');
    return r.claims;
  }

  /** POSTs to the token endpoint with the client's credentials; returns the id and refresh tokens. */
  async token(params: Record<string, string>): Promise<{ idToken: string; refreshToken: string | undefined }> {
    const m = await this.discover();
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const body = new URLSearchParams(params);
    if (this.o.clientSecret !== undefined) {
      // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined
      const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
      headers['authorization'] = `Basic ${Buffer.from(`${enc(this.o.clientId)}:${enc(this.o.clientSecret)}`).toString('base64')}`;
    } else {
      body.set('client_id', this.o.clientId);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(m.token_endpoint, { method: 'POST', headers, body: body.toString(), signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new LoginError(`token request: ${causeOf(e)}`);
    }
    let json: Record<string, unknown> = {};
    try {
      json = (await res.json()) as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    if (!res.ok) {
      // only the error code and its description: never a token
      const what = typeof json['error'] === 'string' ? `${json['error']}${typeof json['error_description'] === 'string' ? `: ${json['error_description']}` : ''}` : `HTTP ${res.status}`;
      throw new LoginError(`token request (${params['grant_type']}): ${what}`);
    }
    if (typeof json['id_token'] !== 'string') throw new LoginError(`token request (${params['grant_type']}): the response has no id_token`);
    return { idToken: json['id_token'], refreshToken: typeof json['refresh_token'] === 'string' ? json['refresh_token'] : undefined };
  }
}

function causeOf(e: unknown): string {
  const err = e as Error & { cause?: Error };
  return err.cause?.message ? `${err.message}: ${err.cause.message}` : String(err.message ?? e);
}

// ------------------------------------------------------------------------------------------------
// the login: authorization code + PKCE through a loopback redirect

const b64url = (b: Buffer): string => b.toString('base64url');

function page(title: string, text: string): string {
  const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1><p>${esc(text)}</p></body></html>`;
}

/** Listens on the first free address of `candidates` (host:port); port 0 picks one. */
async function listenLoopback(candidates: string[], handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: ReturnType<typeof createServer>; host: string; port: number }> {
  let last: Error | undefined;
  for (const c of candidates) {
    const i = c.lastIndexOf(':');
    const host = c.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(c.slice(i + 1));
    const server = createServer(handler);
    try {
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(port, host, () => {
          server.off('error', fail);
          ok();
        });
      });
      return { server, host, port: (server.address() as AddressInfo).port };
    } catch (e) {
      last = e as Error;
    }
  }
  throw new LoginError(`could not listen on ${candidates.join(', ')}: ${last?.message ?? 'no address'}`);
}

function openBrowser(url: string, o: OidcLoginOptions, deps: CliDeps): void {
  deps.stderr.write(`Please visit the following URL in your browser: ${url}\n`);
  if (o.skipOpenBrowser) return;
  const cmd = o.browserCommand ?? (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open');
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true, env: deps.env as NodeJS.ProcessEnv });
    child.on('error', () => deps.stderr.write(`could not start ${cmd}: open the URL above yourself\n`));
    child.unref();
  } catch {
    deps.stderr.write(`could not start ${cmd}: open the URL above yourself\n`);
  }
}

async function login(o: OidcLoginOptions, provider: Provider, deps: CliDeps): Promise<{ idToken: string; refreshToken: string | undefined; claims: JwtClaims }> {
  const m = await provider.discover();
  const state = b64url(randomBytes(32));
  const nonce = b64url(randomBytes(32));
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  let redirectUri = '';
  let authUrl = '';
  let settle: (r: { code: string } | { error: string }) => void = () => undefined;
  const outcome = new Promise<{ code: string } | { error: string }>((r) => (settle = r));
  let done = false;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (req.method !== 'GET' || url.pathname !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const q = url.searchParams;
    if (!q.has('code') && !q.has('error')) {
      // the URL the browser opens: on to the provider
      res.writeHead(302, { location: authUrl, 'cache-control': 'no-store' }).end();
      return;
    }
    if (done) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(page('Authentication already done', 'Close this window.'));
      return;
    }
    if (q.get('state') !== state) {
      // not ours (or forged): refuse it, keep waiting for the real redirect
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(page('Authentication failed', 'state does not match'));
      return;
    }
    done = true;
    if (q.has('error')) {
      const what = `${q.get('error')}${q.get('error_description') ? `: ${q.get('error_description')}` : ''}`;
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', connection: 'close' }).end(page('Authentication failed', what));
      settle({ error: `authorization error from the provider: ${what}` });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' }).end(page('Authenticated', 'You have logged in to the cluster. You may close this window.'));
    settle({ code: q.get('code') ?? '' });
  };

  const { server, host, port } = await listenLoopback(o.listenAddresses, handler);
  try {
    const hostName = o.redirectHostname ?? (host.includes(':') ? `[${host}]` : host);
    redirectUri = `http://${hostName}:${port}`;
    const a = new URL(m.authorization_endpoint);
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: o.clientId,
      redirect_uri: redirectUri,
      scope: ['openid', ...o.extraScopes.filter((s) => s !== 'openid')].join(' '),
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(params)) a.searchParams.set(k, v);
    authUrl = a.href;
    openBrowser(`${redirectUri}/`, o, deps);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      outcome,
      new Promise<{ error: string }>((r) => (timer = setTimeout(() => r({ error: `timed out after ${o.timeoutMs / 1000}s waiting for the browser login` }), o.timeoutMs))),
    ]);
    clearTimeout(timer);
    if ('error' in r) throw new LoginError(r.error);
    const t = await provider.token({ grant_type: 'authorization_code', code: r.code, redirect_uri: redirectUri, code_verifier: verifier });
    return { ...t, claims: await provider.verify(t.idToken, nonce) };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** A valid id token: from the cache, else refreshed, else by a login; stored in the cache. */
export async function obtainIdToken(o: OidcLoginOptions, deps: CliDeps, fetchImpl: typeof fetch = providerFetch(o)): Promise<{ idToken: string; claims: JwtClaims | undefined }> {
  const now = deps.nowMs;
  const provider = new Provider(o, fetchImpl, now);
  const file = cacheFile(o);
  const cached = readCache(file);
  if (cached) {
    const exp = expiryOf(cached.id_token);
    // verified when stored; still valid for a while: use it without asking the provider
    if (exp !== undefined && exp - now() > 10_000) return { idToken: cached.id_token, claims: undefined };
    if (cached.refresh_token) {
      try {
        const t = await provider.token({ grant_type: 'refresh_token', refresh_token: cached.refresh_token });
        const claims = await provider.verify(t.idToken, undefined);
        writeCache(file, o.tokenCacheDir, { id_token: t.idToken, ...((t.refreshToken ?? cached.refresh_token) ? { refresh_token: t.refreshToken ?? cached.refresh_token } : {}) });
        return { idToken: t.idToken, claims };
      } catch (e) {
        deps.stderr.write(`could not refresh the token (${(e as Error).message}); logging in again\n`);
      }
    }
  }
  const t = await login(o, provider, deps);
  writeCache(file, o.tokenCacheDir, { id_token: t.idToken, ...(t.refreshToken ? { refresh_token: t.refreshToken } : {}) });
  return { idToken: t.idToken, claims: t.claims };
}

// ------------------------------------------------------------------------------------------------
// the exec credential protocol

/** The apiVersion kubectl asks for in KUBERNETES_EXEC_INFO (v1beta1 when it says nothing, as kubelogin assumes). */
export function execApiVersion(env: Record<string, string | undefined>): { apiVersion: string; interactive: boolean | undefined } {
  const raw = env['KUBERNETES_EXEC_INFO'];
  if (!raw) return { apiVersion: V1BETA1, interactive: undefined };
  let info: { apiVersion?: unknown; spec?: { interactive?: unknown } };
  try {
    info = JSON.parse(raw) as typeof info;
  } catch {
    throw new LoginError('KUBERNETES_EXEC_INFO is not JSON');
  }
  if (info.apiVersion !== V1 && info.apiVersion !== V1BETA1) throw new LoginError(`KUBERNETES_EXEC_INFO: unsupported apiVersion ${JSON.stringify(info.apiVersion)} (want ${V1} or ${V1BETA1})`);
  return { apiVersion: info.apiVersion, interactive: typeof info.spec?.interactive === 'boolean' ? info.spec.interactive : undefined };
}

export function execCredential(apiVersion: string, interactive: boolean | undefined, token: string, expiryMs: number | undefined): string {
  const cred = {
    kind: 'ExecCredential',
    apiVersion,
    spec: interactive === undefined ? {} : { interactive },
    status: { ...(expiryMs !== undefined ? { expirationTimestamp: new Date(Math.floor(expiryMs / 1000) * 1000).toISOString().replace('.000Z', 'Z') } : {}), token },
  };
  return `${JSON.stringify(cred)}\n`;
}

// ------------------------------------------------------------------------------------------------
// the commands

function addLoginFlags(cmd: Command): Command {
  return cmd
    .option('--oidc-issuer-url <url>', 'the OpenID provider (https)')
    .option('--oidc-client-id <id>', 'the client id registered at the provider')
    .option('--oidc-client-secret <secret>', 'the client secret (confidential clients)')
    .option('--oidc-extra-scope <scope>', 'a scope to ask for besides openid (repeatable, or comma-separated)', collectRaw)
    .option('--oidc-signing-algs <algs>', 'comma-separated algorithms the id token may be signed with (default: any asymmetric)')
    .option('--certificate-authority <file>', 'PEM CA bundle the provider\'s HTTPS certificate must chain to (default: the system\'s)')
    .option('--certificate-authority-data <base64>', 'the same, base64-encoded PEM')
    .option('--insecure-skip-tls-verify', 'do not verify the provider\'s certificate (the book uses it with a self-signed FusionAuth; prefer --certificate-authority)')
    .option('--listen-address <host:port>', 'loopback address for the redirect (repeatable; default 127.0.0.1:8000, then 127.0.0.1:18000)', collectRaw)
    .option('--redirect-url-hostname <host>', 'host name of the redirect URI (default: the listen address; `localhost` matches a provider registered with http://localhost:8000)')
    .option('--skip-open-browser', 'only print the URL to open')
    .option('--browser-command <command>', 'the command that opens the URL (default xdg-open, or open on macOS)')
    .option('--token-cache-dir <dir>', 'where tokens are cached', '~/.kube/cache/oidc-login')
    .option('--authentication-timeout-sec <seconds>', 'how long to wait for the browser login', '180');
}

export async function runGetToken(flags: RawFlags, deps: CliDeps): Promise<void> {
  const { apiVersion, interactive } = execApiVersion(deps.env);
  const o = loginOptionsOf(flags, deps);
  const { idToken } = await obtainIdToken(o, deps);
  deps.stdout.write(execCredential(apiVersion, interactive, idToken, expiryOf(idToken)));
}

/** The exec arguments that repeat the login options of `flags` (the ones a user gave). */
function execArgs(flags: RawFlags, deps: CliDeps): string[] {
  const args = ['oidc-login', 'get-token', `--oidc-issuer-url=${flags.oidcIssuerUrl}`, `--oidc-client-id=${flags.oidcClientId}`];
  if (flags.oidcClientSecret) args.push(`--oidc-client-secret=${flags.oidcClientSecret}`);
  for (const s of flags.oidcExtraScope ?? []) args.push(`--oidc-extra-scope=${s}`);
  if (flags.oidcSigningAlgs) args.push(`--oidc-signing-algs=${flags.oidcSigningAlgs}`);
  // absolute: kubectl runs the plugin wherever it is itself run
  if (flags.certificateAuthority) args.push(`--certificate-authority=${expandHome(flags.certificateAuthority, deps)}`);
  if (flags.certificateAuthorityData) args.push(`--certificate-authority-data=${flags.certificateAuthorityData}`);
  if (flags.insecureSkipTlsVerify) args.push('--insecure-skip-tls-verify');
  for (const l of flags.listenAddress ?? []) args.push(`--listen-address=${l}`);
  if (flags.redirectUrlHostname) args.push(`--redirect-url-hostname=${flags.redirectUrlHostname}`);
  if (flags.tokenCacheDir && flags.tokenCacheDir !== '~/.kube/cache/oidc-login') args.push(`--token-cache-dir=${flags.tokenCacheDir}`);
  return args;
}

const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function setupText(flags: RawFlags & { user?: string; execApiVersion?: string }, claims: JwtClaims | undefined, deps: CliDeps): string {
  const user = flags.user ?? 'oidc';
  const apiVersion = flags.execApiVersion ?? V1BETA1;
  const args = execArgs(flags, deps);
  let out = '';
  if (claims) {
    out += `## Authenticated with the OpenID Connect Provider\n\nYou got the token with the following claims:\n\n${JSON.stringify(claims, null, 2)}\n\n`;
  }
  out += `## Set up the kubeconfig\n\n`;
  out += `kubectl config set-credentials ${shellQuote(user)} \\\n  --exec-api-version=${apiVersion} \\\n  --exec-command=tessera \\\n`;
  out += args.map((a) => `  --exec-arg=${shellQuote(a)}`).join(' \\\n');
  out += `\n\nor put this user in the kubeconfig:\n\n`;
  out += toYaml({ users: [{ name: user, user: { exec: { apiVersion, command: 'tessera', args, interactiveMode: 'Never', provideClusterInfo: false } } }] });
  out += `\n## Use it\n\nkubectl --user=${shellQuote(user)} get pods\n`;
  return out;
}

export function registerOidcLogin(program: Command, deps: CliDeps): void {
  const root = program
    .command('oidc-login')
    .description('kubectl exec credential plugin for OpenID Connect (like kubelogin): log in through the browser, print id tokens for kubectl');
  addLoginFlags(root.command('get-token'))
    .description('Print an ExecCredential with an id token (cached, refreshed, or by a browser login) — run by kubectl from the kubeconfig')
    .action(async (flags: RawFlags) => {
      await runGetToken(flags, deps);
    });
  addLoginFlags(root.command('setup'))
    .description('Log in, print the id token\'s claims, and the kubeconfig user that makes kubectl use `tessera oidc-login get-token`')
    .option('--user <name>', 'the kubeconfig user to set up', 'oidc')
    .option('--exec-api-version <version>', `the ExecCredential version in the kubeconfig (${V1BETA1} or ${V1})`, V1BETA1)
    .option('--no-login', 'only print the kubeconfig, do not log in')
    .action(async (flags: RawFlags & { user: string; execApiVersion: string; login: boolean }) => {
      if (flags.execApiVersion !== V1 && flags.execApiVersion !== V1BETA1) throw new MeshError('MESH_ERR_USAGE', `--exec-api-version must be ${V1BETA1} or ${V1}`);
      const o = loginOptionsOf(flags, deps);
      let claims: JwtClaims | undefined;
      if (flags.login) {
        // always a fresh login, as kubelogin's setup does: the claims shown are the provider's current ones
        rmSync(cacheFile(o), { force: true });
        claims = (await obtainIdToken(o, deps)).claims;
      }
      deps.stdout.write(setupText(flags, claims, deps));
    });
  root
    .command('clean')
    .description('Remove the token cache (log out)')
    .option('--token-cache-dir <dir>', 'where tokens are cached', '~/.kube/cache/oidc-login')
    .action((flags: { tokenCacheDir: string }) => {
      const dir = expandHome(flags.tokenCacheDir, deps);
      const had = existsSync(dir);
      rmSync(dir, { recursive: true, force: true });
      deps.stderr.write(had ? `Deleted the token cache at ${dir}\n` : `No token cache at ${dir}\n`);
    });
}
