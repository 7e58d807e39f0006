/**
 * `tessera up --oidc-…`: kube-apiserver's OIDC flags, with their meaning, kept for the daemon in
 * `<state>/oidc.json` (0600; src/kube/auth/oidc.ts reads it when the API starts). `up` without
 * `--oidc-issuer-url` turns OIDC off, as starting kube-apiserver without the flag does.
 */
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { oidcOptionsPath, validateOidcOptions, writeOidcOptions, type OidcOptions } from '../../kube/auth/oidc-options.js';
import { MeshError } from '../../lib/errors.js';
import type { CliDeps } from '../deps.js';
import { collectRaw, stateDirOf } from './common.js';

interface OidcFlags {
  oidcIssuerUrl?: string;
  oidcClientId?: string;
  oidcUsernameClaim?: string;
  oidcUsernamePrefix?: string;
  oidcGroupsClaim?: string;
  oidcGroupsPrefix?: string;
  oidcRequiredClaim?: string[];
  oidcCaFile?: string;
  oidcSigningAlgs?: string;
}

/** The options the flags mean, or undefined without an issuer; a usage error for flags kube-apiserver would refuse. */
export function oidcOptionsOf(flags: OidcFlags, cwd: string): OidcOptions | undefined {
  if (!flags.oidcIssuerUrl) return undefined;
  const o: OidcOptions = { issuerUrl: flags.oidcIssuerUrl, clientId: flags.oidcClientId ?? '' };
  if (flags.oidcUsernameClaim) o.usernameClaim = flags.oidcUsernameClaim;
  if (flags.oidcUsernamePrefix !== undefined) o.usernamePrefix = flags.oidcUsernamePrefix;
  if (flags.oidcGroupsClaim) o.groupsClaim = flags.oidcGroupsClaim;
  if (flags.oidcGroupsPrefix !== undefined) o.groupsPrefix = flags.oidcGroupsPrefix;
  if (flags.oidcCaFile) o.caFile = isAbsolute(flags.oidcCaFile) ? flags.oidcCaFile : resolve(cwd, flags.oidcCaFile);
  if (flags.oidcSigningAlgs) o.signingAlgs = flags.oidcSigningAlgs.split(',').map((a) => a.trim()).filter((a) => a !== '');
  const problems: string[] = [];
  for (const kv of flags.oidcRequiredClaim ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) problems.push(`--oidc-required-claim ${JSON.stringify(kv)}: expected key=value`);
    else (o.requiredClaims ??= {})[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  problems.push(...validateOidcOptions(o));
  if (problems.length > 0) throw new MeshError('MESH_ERR_USAGE', problems.join('; '));
  return o;
}

/** Adds the flags to `up` and persists them before it runs. */
export function addOidcFlags(up: Command, deps: CliDeps): void {
  up
    .option('--oidc-issuer-url <url>', 'accept OpenID Connect id tokens of this issuer (https only), as kube-apiserver does')
    .option('--oidc-client-id <id>', 'the client id every id token must be issued for (aud)')
    .option('--oidc-username-claim <claim>', 'the claim that names the user (default sub)')
    .option('--oidc-username-prefix <prefix>', 'prefix for usernames (default "<issuer>#" unless the claim is email; "-" for none)')
    .option('--oidc-groups-claim <claim>', 'the claim that lists the user\'s groups')
    .option('--oidc-groups-prefix <prefix>', 'prefix for group names')
    .option('--oidc-required-claim <key=value>', 'a claim every id token must have with this value (repeatable)', collectRaw)
    .option('--oidc-ca-file <file>', 'PEM CA bundle the issuer\'s HTTPS certificate must chain to (default: the system\'s)')
    .option('--oidc-signing-algs <algs>', 'comma-separated signing algorithms accepted (default RS256)');
  up.hook('preAction', (cmd) => {
    const flags = cmd.opts() as OidcFlags;
    const options = oidcOptionsOf(flags, deps.cwd);
    const stateDir = stateDirOf(cmd, deps);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeOidcOptions(oidcOptionsPath(stateDir), options);
  });
}
