/** The incoming-token check every token plugin starts with: find the token, verify it strictly (src/authn). */
import { compileJwtPolicy, compileJwtRule, RemoteJwks, verifyJwtAsync, type CompiledJwtPolicy, type JwtClaims } from '../../authn/index.js';
import type { PluginHeaders } from '../../plugins/api.js';
import { clusterFetch, type FetchTarget } from '../authn/cluster-fetch.js';
import type { VerifyConfig } from './config.js';

export interface TokenVerifier {
  readonly header: string;
  readonly prefix: string;
  readonly allowMissing: boolean;
  readonly policy: CompiledJwtPolicy;
}

export type Checked =
  | { kind: 'missing' }
  /** `reason` is fixed text from the verifier: safe to log, never the token */
  | { kind: 'invalid'; reason: string }
  | { kind: 'valid'; token: string; claims: JwtClaims };

interface Remote {
  jwks: RemoteJwks;
  target: FetchTarget;
}

/**
 * Remote key sets outlive snapshots (so a new snapshot does not refetch), per sidecar and by
 * (jwksUri or discovery issuer); each resolves in-cluster names with the latest routing tables.
 */
const remotes = new WeakMap<object, Map<string, Remote>>();

function remoteJwks(config: VerifyConfig, target: FetchTarget): RemoteJwks {
  let bySidecar = remotes.get(target.upstream);
  if (!bySidecar) remotes.set(target.upstream, (bySidecar = new Map()));
  const key = config.jwksUri ?? `discovery:${config.issuer}`;
  let entry = bySidecar.get(key);
  if (!entry) {
    const holder = { target } as Remote;
    holder.jwks = new RemoteJwks({
      ...(config.jwksUri !== undefined ? { jwksUri: config.jwksUri } : {}),
      issuer: config.issuer,
      fetch: clusterFetch(() => holder.target),
    });
    holder.jwks.refresh().catch(() => undefined);
    bySidecar.set(key, (entry = holder));
  }
  entry.target = target;
  return entry.jwks;
}

/** Throws (with a message naming the problem) when the keys cannot be set up, e.g. a bad inline JWKS. */
export function compileVerifier(config: VerifyConfig, target: FetchTarget): TokenVerifier {
  const { issuer, audiences = [], jwks } = config;
  const policy =
    jwks !== undefined ? compileJwtRule({ issuer, audiences, jwks }) : compileJwtPolicy({ issuer, audiences, keys: remoteJwks(config, target) });
  return {
    header: config.fromHeader?.name ?? 'authorization',
    prefix: config.fromHeader?.prefix ?? 'Bearer ',
    allowMissing: config.allowMissing,
    policy,
  };
}

export async function checkToken(v: TokenVerifier, headers: PluginHeaders, now: number): Promise<Checked> {
  const raw = headers.get(v.header);
  if (raw === undefined) return { kind: 'missing' };
  // A repeated header reads comma-joined; a token never contains a comma, so it fails as malformed.
  if (!raw.startsWith(v.prefix)) return { kind: 'invalid', reason: `the ${v.header} header does not start with the configured prefix` };
  const token = raw.slice(v.prefix.length);
  const r = await verifyJwtAsync(token, v.policy, now);
  if (!r.ok) return { kind: 'invalid', reason: `${r.code}: ${r.message}` };
  return { kind: 'valid', token, claims: r.claims };
}
