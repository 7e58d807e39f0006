/**
 * A real OpenID provider (the `oidc-provider` package) as a pod's app, for
 * test/e2e/oidc-provider.test.ts: run as `node dist/test/support/oidc-idp.js` through
 * `local.tessera.dev/command`, in a namespace outside the mesh, behind a Service, the way an
 * identity provider runs in a cluster. It issues JWT access tokens by the client credentials grant.
 * Configuration by environment (the Deployment's env):
 *   HOST, PORT          where to listen (the local runtime sets them)
 *   OIDC_ISSUER         the issuer: its Service URL (http://NAME.NS:PORT)
 *   OIDC_CLIENT         JSON {"id": "…", "secret": "…"}: the one client (client_secret_basic)
 *   OIDC_KEYS           JSON list of private JWKs, published in this order; the first RS256 and the
 *                       first ES256 key sign access tokens
 *   OIDC_RESOURCES      JSON {"resource indicator": ["audience", "RS256"|"ES256", TTL seconds]}
 * Rotating keys is a redeploy: a new pod with a new OIDC_KEYS.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

function setting(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`oidc-idp: ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const issuer = setting('OIDC_ISSUER');
const client = JSON.parse(setting('OIDC_CLIENT')) as { id: string; secret: string };
const keys = JSON.parse(setting('OIDC_KEYS')) as { kid: string; alg: string }[];
const resources = JSON.parse(setting('OIDC_RESOURCES')) as Record<string, [string, 'RS256' | 'ES256', number]>;
const signWith = {
  RS256: keys.find((k) => k.alg === 'RS256')?.kid,
  ES256: keys.find((k) => k.alg === 'ES256')?.kid,
};
const defaultResource = Object.keys(resources)[0]!;

const provider = new Provider(issuer, {
  clients: [{ client_id: client.id, client_secret: client.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' }],
  jwks: { keys },
  cookies: { keys: [randomBytes(16).toString('hex')] },
  // The resource server's accessTokenTTL decides (a plain number here would override it).
  ttl: { ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? 300 },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => defaultResource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        const r = resources[indicator];
        if (!r) throw new Error(`unknown resource ${indicator}`);
        const [audience, alg, accessTokenTTL] = r;
        return { scope: 'api:read', audience, accessTokenTTL, accessTokenFormat: 'jwt', jwt: { sign: { alg, ...(signWith[alg] ? { kid: signWith[alg] } : {}) } } };
      },
    },
  },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error ${String(err)}\n`));

const port = Number(process.env['PORT'] ?? 8080);
const host = process.env['HOST'] ?? '0.0.0.0';
const server = createServer(provider.callback()).listen(port, host, () => {
  process.stdout.write(`${JSON.stringify({ msg: 'oidc-idp listening', address: `${host}:${port}`, issuer, kids: keys.map((k) => k.kid) })}\n`);
});
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
