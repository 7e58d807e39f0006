/**
 * The auth book's chapter "Implementing RBAC in Kubernetes with FusionAuth" end to end on `tessera up`
 * (issue #13): only the cluster set-up (minikube, Helm, FusionAuth on Kubernetes, the ingress) is
 * replaced, by a real OpenID provider (`oidc-provider`) on https://127.0.0.1 configured like the
 * book's FusionAuth: an application with a client id and secret, the loopback redirect URL, an RS256
 * key, the `roles` claim in the id token (the book's JWT populate lambda), users admin@fusionauth.local
 * (role admin) and viewer@fusionauth.local (role viewer), and a login form (loginId and password).
 *
 * Then the book's steps: `tessera up` with its `--oidc-*` flags; its two ClusterRoleBindings saved as
 * crb-admin.yaml / crb-viewer.yaml and created with `kubectl create -f`; `tessera oidc-login setup`
 * (for `kubectl oidc-login setup`) logs in and shows the claims; `kubectl config set-credentials oidc
 * --exec-command=tessera …` as the book writes it; the admin deletes the pod; `rm -rf
 * ~/.kube/cache/oidc-login`; the viewer logs in and gets kube-apiserver's Forbidden message. Beyond
 * the book: the token cache (0600) is used, the refresh token renews an expiring id token without a
 * login, `client.authentication.k8s.io/v1` works with the stanza `setup` prints, a forged redirect
 * (wrong state) is refused, and no token is ever printed on stderr.
 *
 * The login runs in a real browser when it can: Debian's Chromium (/usr/bin/chromium) driven by
 * `playwright-core` (or the module at TESSERA_PLAYWRIGHT_CORE) fills the provider's login form.
 * Without them the same form is submitted by a plain HTTP client following the redirects (with
 * cookies); the test's name says which. TESSERA_BOOK_LOGIN=http forces the HTTP client.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Provider from 'oidc-provider';
import { parse as parseYaml, stringify } from 'yaml';
import { ensureClusterPki } from '../../src/local/pki/index.js';
import { kubectlBinaries } from '../support/kubectl.js';
import { eventually, run, SAMPLES, SEEDS, type RunResult, type TestMesh } from '../support/mesh.js';

const OWN_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const NEWEST = kubectlBinaries().at(-1);
const CHROMIUM = '/usr/bin/chromium';

// ------------------------------------------------------------------------------------------------
// the login driver: Chromium through playwright-core, or a plain HTTP client

interface Playwright {
  chromium: { launch(o: Record<string, unknown>): Promise<any> };
}

async function loadPlaywright(): Promise<Playwright | string> {
  if (process.env['TESSERA_BOOK_LOGIN'] === 'http') return 'TESSERA_BOOK_LOGIN=http';
  if (!existsSync(CHROMIUM)) return `no ${CHROMIUM} (apt-get install -y chromium)`;
  for (const spec of ['playwright-core', process.env['TESSERA_PLAYWRIGHT_CORE']]) {
    if (!spec) continue;
    try {
      const m = (await import(spec)) as Playwright & { default?: Playwright };
      return m.chromium ? m : m.default!;
    } catch {
      /* next */
    }
  }
  return 'playwright-core is not installed';
}

const PLAYWRIGHT = await loadPlaywright();
const BROWSER = typeof PLAYWRIGHT === 'string' ? undefined : PLAYWRIGHT;
const LOGIN_MODE = BROWSER ? 'Chromium (playwright-core) fills the provider\'s login form' : 'a plain HTTP client submits the provider\'s login form';

interface Account {
  id: string;
  email: string;
  password: string;
  roles: string[];
}

const ADMIN: Account = { id: randomUUID(), email: 'admin@fusionauth.local', password: 'password-admin', roles: ['admin'] };
const VIEWER: Account = { id: randomUUID(), email: 'viewer@fusionauth.local', password: 'password-viewer', roles: ['viewer'] };

/** A tiny cookie-keeping HTTP(S) client that follows redirects by hand, as a browser would. */
class HttpBrowser {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly ca: string) {}

  async send(method: string, url: string, form?: Record<string, string>): Promise<{ status: number; location: string | undefined; body: string; url: string }> {
    const u = new URL(url);
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0 && u.hostname === '127.0.0.1') headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = u.protocol === 'https:' ? httpsRequest(u, { method, headers, ca: this.ca }, resolve) : httpRequest(u, { method, headers }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    let text = '';
    for await (const chunk of res) text += (chunk as Buffer).toString();
    for (const c of res.headers['set-cookie'] ?? []) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const location = res.headers.location ? new URL(res.headers.location, u).href : undefined;
    return { status: res.statusCode ?? 0, location, body: text, url: u.href };
  }

  /** GETs `url` and follows redirects; returns the last response. */
  async follow(method: string, url: string, form?: Record<string, string>): Promise<{ status: number; body: string; url: string }> {
    let r = await this.send(method, url, form);
    for (let hops = 0; r.location && r.status >= 300 && r.status < 400; hops++) {
      assert.ok(hops < 20, 'too many redirects');
      r = await this.send('GET', r.location);
    }
    return r;
  }
}

/** Logs `who` in through the URL the plugin asked to open; returns the text of the final page. */
async function driveLogin(url: string, who: Account, ca: string, redirectPrefix: string): Promise<string> {
  if (BROWSER) {
    const browser = await BROWSER.chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    try {
      // the book: "You'll find a certificate error because of the self-signed certificate … Accept the warning"
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await page.goto(url);
      await page.fill('input[name="loginId"]', who.email);
      await page.fill('input[name="password"]', who.password);
      await Promise.all([page.waitForURL((u: URL) => u.href.startsWith(redirectPrefix), { timeout: 30_000 }), page.click('button[type="submit"]')]);
      return (await page.textContent('body')) ?? '';
    } finally {
      await browser.close();
    }
  }
  const b = new HttpBrowser(ca);
  const form = await b.follow('GET', url);
  assert.equal(form.status, 200, form.body);
  const action = /<form[^>]*action="([^"]+)"/.exec(form.body)?.[1];
  assert.ok(action, `no login form in ${form.body}`);
  const done = await b.follow('POST', new URL(action, form.url).href, { loginId: who.email, password: who.password });
  assert.ok(done.url.startsWith(redirectPrefix), `ended at ${done.url}`);
  return done.body;
}

// ------------------------------------------------------------------------------------------------
// the book's FusionAuth, as an oidc-provider

/** The interaction API of oidc-provider v8 this test uses (test/support/oidc-provider.d.ts declares the rest). */
interface InteractiveProvider {
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ uid: string; params: Record<string, unknown> }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: new (o: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
}

class FusionAuthLike {
  issuer = '';
  caFile = '';
  ca = '';
  readonly clientId = randomUUID();
  readonly clientSecret = randomBytes(24).toString('base64url');
  /** the redirect URL registered for the application (the book's http://localhost:8000, on a free port) */
  redirectUri = '';
  idTokenTtl = 3600;
  readonly logins: string[] = [];
  readonly grants: string[] = [];
  private server: HttpsServer | undefined;
  private readonly accounts = new Map([ADMIN, VIEWER].map((a) => [a.id, a]));

  async start(dir: string, loopbackPort: number): Promise<void> {
    // the book makes a CA and a certificate for fusionauth.local with cfssl; here one for 127.0.0.1
    const pki = await ensureClusterPki(dir, 'fusionauth', ['127.0.0.1']);
    this.ca = pki.ca.cert;
    this.caFile = join(dir, 'fusionauth-ca.pem');
    writeFileSync(this.caFile, pki.ca.cert);
    const server = createHttpsServer({ cert: pki.server.cert, key: pki.server.key });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.redirectUri = `http://127.0.0.1:${loopbackPort}`;
    // "Kubernetes RSA Key": id tokens signed with RS256
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const provider = new Provider(this.issuer, {
      clients: [{
        client_id: this.clientId, client_secret: this.clientSecret, redirect_uris: [this.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
      }],
      jwks: { keys: [{ ...(rsa.export({ format: 'jwk' }) as object), kid: 'kubernetes-rsa-key', alg: 'RS256', use: 'sig' }] },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      // the JWT populate lambda: `jwt.roles = registration.roles`, with email and email_verified, in the id token
      claims: { openid: ['sub', 'email', 'email_verified', 'roles'] },
      conformIdTokenClaims: false,
      findAccount: (_ctx: unknown, id: string) => {
        const a = this.accounts.get(id);
        return a ? { accountId: a.id, claims: () => ({ sub: a.id, email: a.email, email_verified: true, roles: a.roles }) } : undefined;
      },
      // FusionAuth issues a refresh token to an application allowed the refresh grant
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed('refresh_token'),
      pkce: { required: () => true },
      ttl: { IdToken: () => this.idTokenTtl },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      features: { devInteractions: { enabled: false } },
    });
    provider.on('grant.success', (ctx) => this.grants.push(String((ctx as { oidc: { params?: Record<string, unknown> } }).oidc.params?.['grant_type'])));
    const callback = provider.callback();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/interaction/')) this.interaction(provider as unknown as InteractiveProvider, req, res).catch((e: Error) => res.writeHead(500).end(e.message));
      else callback(req, res);
    });
  }

  /** FusionAuth's login page: a form with loginId and password; a right password logs in and consents. */
  private async interaction(provider: InteractiveProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const form = (error: string): void => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><head><title>Login | FusionAuth</title></head><body>
<form method="post" action="/interaction/${details.uid}/login">${error ? `<p class="error">${error}</p>` : ''}
<label>Email <input type="text" name="loginId" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Submit</button></form></body></html>`);
    };
    if (req.method === 'GET') return form('');
    let body = '';
    for await (const chunk of req) body += (chunk as Buffer).toString();
    const f = new URLSearchParams(body);
    const account = [...this.accounts.values()].find((a) => a.email === f.get('loginId') && a.password === f.get('password'));
    if (!account) return form('Invalid login credentials.');
    this.logins.push(account.email);
    const grant = new provider.Grant({ accountId: account.id, clientId: String(details.params['client_id']) });
    grant.addOIDCScope(String(details.params['scope']));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: account.id }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// ------------------------------------------------------------------------------------------------
// the book's manifests, as it prints them (checked line by line against the seed text)

const CRB_ADMIN = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: fusionauth-cluster-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: oidc:admin
`;

const CRB_VIEWER = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: fusionauth-cluster-viewers
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: oidc:viewer
`;

/**
 * The book's pods to delete ("one of the Elasticsearch cluster nodes", elasticsearch-master-0 of a
 * StatefulSet there): here a Deployment's pod, which comes back the same way when deleted.
 */
const ES_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: elasticsearch-master, namespace: default }
spec:
  replicas: 1
  selector: { matchLabels: { app: elasticsearch-master } }
  template:
    metadata:
      labels: { app: elasticsearch-master }
      annotations: { local.tessera.dev/command: 'sleep 3600' }
    spec:
      containers: [{ name: elasticsearch, image: busybox }]
`;

const JWT_LIKE = /eyJ[\w-]{10,}\.eyJ[\w-]{10,}/;

// ------------------------------------------------------------------------------------------------

if (typeof PLAYWRIGHT === 'string') {
  describe('the book\'s OIDC login in a real browser', { skip: `no browser login: ${PLAYWRIGHT} (the chapter below runs with a plain HTTP client)` }, () => {
    it('logs in with Chromium', () => undefined);
  });
}

describe(`the book's chapter "Implementing RBAC in Kubernetes with FusionAuth" on tessera up — ${LOGIN_MODE}`, { skip: NEWEST ? false : 'no kubectl on this machine', timeout: 600_000 }, () => {
  let mesh: TestMesh;
  const provider = new FusionAuthLike();
  let work = '';
  let home = '';
  let env: NodeJS.ProcessEnv = {};
  let port = 0;
  let urlFile = '';
  let browserCommand = '';
  let kubeconfig = '';

  /** a shell as the user types the book's commands: kubectl (this machine's newest), tessera on PATH, their HOME and KUBECONFIG */
  const sh = (script: string): Promise<RunResult> => run('bash', ['-euo', 'pipefail', '-c', script], { env, cwd: work, timeoutMs: 120_000 });
  const openedUrls = (): string[] => (existsSync(urlFile) ? readFileSync(urlFile, 'utf8').split('\n').filter((l) => l !== '') : []);

  /**
   * Runs `script` while answering the browser logins the plugin asks for, as `who` (none expected
   * when undefined). Returns the script's result and the accounts that logged in.
   */
  const withLogin = async (script: string, who: Account | undefined, opts: { forgeState?: boolean } = {}): Promise<RunResult & { logins: string[]; pages: string[] }> => {
    const seen = openedUrls().length;
    const loginsBefore = provider.logins.length;
    const pages: string[] = [];
    let finished = false;
    const driver = (async () => {
      let handled = seen;
      while (!finished) {
        const urls = openedUrls();
        while (handled < urls.length) {
          const url = urls[handled++]!;
          if (!who) throw new Error(`unexpected login asked for: ${url}`);
          if (opts.forgeState) {
            // a redirect that is not the answer to this login: refused, and the login goes on
            const forged = await new HttpBrowser(provider.ca).send('GET', `${url.replace(/\/$/, '')}/?code=forged&state=forged`);
            assert.equal(forged.status, 400);
            assert.match(forged.body, /state does not match/);
          }
          pages.push(await driveLogin(url, who, provider.ca, provider.redirectUri));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      const r = await sh(script);
      return { ...r, logins: provider.logins.slice(loginsBefore), pages };
    } finally {
      finished = true;
      await driver;
    }
  };

  /** the Elasticsearch pod's name (the admin asks), once there is one */
  const esPod = (not?: string): Promise<string> => eventually(async () => {
    const r = await sh('kubectl get pods -n default -l app=elasticsearch-master -o jsonpath={.items[*].metadata.name}');
    const names = r.stdout.trim().split(/\s+/).filter((n) => n !== '' && n !== not);
    return names.length === 1 ? names[0] : undefined;
  }, 60_000, 'the elasticsearch pod');

  const cacheDir = (): string => join(home, '.kube', 'cache', 'oidc-login');
  const cachedIdToken = (): string => {
    const files = readdirSync(cacheDir());
    assert.equal(files.length, 1, files.join(' '));
    return (JSON.parse(readFileSync(join(cacheDir(), files[0]!), 'utf8')) as { id_token: string }).id_token;
  };
  const claimsOf = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

  /** the book's `kubectl config set-credentials oidc …`, with --exec-command=tessera and this machine's provider */
  const setCredentials = (): string => `kubectl config set-credentials oidc \\
  --exec-api-version=client.authentication.k8s.io/v1beta1 \\
  --exec-command=tessera \\
  --exec-arg=oidc-login \\
  --exec-arg=get-token \\
  --exec-arg=--oidc-issuer-url=${provider.issuer} \\
  --exec-arg=--oidc-client-id=${provider.clientId} \\
  --exec-arg=--oidc-client-secret=${provider.clientSecret} \\
  --exec-arg=--certificate-authority=${provider.caFile} \\
  --exec-arg=--listen-address=127.0.0.1:${port} \\
  --exec-arg=--browser-command=${browserCommand}`;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-book-oidc-'));
    home = join(work, 'home');
    mkdirSync(home, { recursive: true });
    port = await freePort();
    await provider.start(join(work, 'fusionauth'), port);
    // the "browser" the plugin opens: records the URL for the driver above
    urlFile = join(work, 'opened-urls');
    browserCommand = join(work, 'open-browser');
    writeFileSync(browserCommand, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${urlFile}'\n`);
    chmodSync(browserCommand, 0o755);

    const stateDir = join(work, 'state');
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'tessera'), `#!/bin/sh\nexec "${process.execPath}" "${OWN_CLI}" "$@"\n`);
    writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\nexec "${NEWEST!.path}" "$@"\n`);
    chmodSync(join(bin, 'tessera'), 0o755);
    chmodSync(join(bin, 'kubectl'), 0o755);
    const meshEnv = { ...process.env, TESSERA_HOME: stateDir, PATH: `${bin}:${process.env['PATH'] ?? ''}`, SAMPLES, SEEDS };
    mesh = {
      stateDir,
      meshName: 'book-oidc',
      tessera: (args, opts) => run(process.execPath, [OWN_CLI, ...args], { env: meshEnv, ...opts }),
      sh: (script, opts) => run('bash', ['-euo', 'pipefail', '-c', script], { env: meshEnv, ...opts }),
      stop: async () => {
        await run(process.execPath, [OWN_CLI, 'down'], { env: meshEnv, timeoutMs: 60_000 }).catch(() => undefined);
      },
    };
    // "Restart the minikube cluster with additional API server flags" — the book's, on tessera up
    const up = await mesh.tessera(['up', '--mesh-name', 'book-oidc', '--detach',
      `--oidc-issuer-url=${provider.issuer}`,
      `--oidc-client-id=${provider.clientId}`,
      '--oidc-username-claim=email',
      '--oidc-username-prefix=oidc:',
      '--oidc-groups-claim=roles',
      '--oidc-groups-prefix=oidc:',
      `--oidc-ca-file=${provider.caFile}`,
    ], { timeoutMs: 90_000 });
    assert.equal(up.code, 0, `tessera up failed:\n${up.stdout}\n${up.stderr}`);
    // the user's kubeconfig: the admin's, to which the book adds the oidc user
    kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(join(stateDir, 'kubeconfig')), { mode: 0o600 });
    env = { ...meshEnv, HOME: home, KUBECONFIG: kubeconfig };
    const es = await run(NEWEST!.path, ['apply', '-f', '-'], { env, input: ES_DEPLOYMENT, timeoutMs: 60_000 });
    assert.equal(es.code, 0, es.stderr);
  });
  after(async () => {
    await mesh?.stop();
    await provider.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('the book\'s ClusterRoleBindings: kubectl create -f crb-admin.yaml, crb-viewer.yaml', async () => {
    const seed = readFileSync(join(SEEDS, '004_05abc655652cad8d.txt'), 'utf8');
    for (const line of `${CRB_ADMIN}${CRB_VIEWER}`.split('\n').filter((l) => l.trim() !== '')) assert.ok(seed.includes(line.trim()), `not in the book: ${line}`);
    writeFileSync(join(work, 'crb-admin.yaml'), CRB_ADMIN);
    writeFileSync(join(work, 'crb-viewer.yaml'), CRB_VIEWER);
    const r = await sh('kubectl create -f crb-admin.yaml\nkubectl create -f crb-viewer.yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'clusterrolebinding.rbac.authorization.k8s.io/fusionauth-cluster-admin created',
      'clusterrolebinding.rbac.authorization.k8s.io/fusionauth-cluster-viewers created',
    ]);
  });

  it('tessera oidc-login setup (the book\'s kubectl oidc-login setup): admin@ logs in, the id token\'s claims are shown', async () => {
    // as the book writes it, --insecure-skip-tls-verify for the self-signed provider
    const r = await withLogin(`tessera oidc-login setup \\
  --oidc-issuer-url=${provider.issuer} \\
  --oidc-client-id=${provider.clientId} \\
  --oidc-client-secret=${provider.clientSecret} \\
  --insecure-skip-tls-verify \\
  --listen-address=127.0.0.1:${port} --browser-command=${browserCommand}`, ADMIN);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.logins, ['admin@fusionauth.local']);
    assert.match(r.pages.join('\n'), /Authenticated/);
    const json = /You got the token with the following claims:\n\n(\{[\s\S]*?\n\})\n/.exec(r.stdout)?.[1];
    assert.ok(json, r.stdout);
    const claims = JSON.parse(json) as Record<string, unknown>;
    // "Verify that the email field is correct, and that the roles array contains the admin role."
    assert.equal(claims['email'], 'admin@fusionauth.local');
    assert.equal(claims['email_verified'], true);
    assert.deepEqual(claims['roles'], ['admin']);
    assert.equal(claims['iss'], provider.issuer);
    assert.equal(claims['aud'], provider.clientId);
    assert.equal(typeof claims['nonce'], 'string');
    assert.match(r.stdout, /kubectl config set-credentials oidc \\\n  --exec-api-version=client\.authentication\.k8s\.io\/v1beta1 \\\n  --exec-command=tessera \\\n  --exec-arg=oidc-login \\\n  --exec-arg=get-token/);
    assert.doesNotMatch(r.stdout + r.stderr, JWT_LIKE);
    // the token is cached, 0600 in a 0700 folder
    assert.equal(statSync(cacheDir()).mode & 0o777, 0o700);
    for (const f of readdirSync(cacheDir())) assert.equal(statSync(join(cacheDir(), f)).mode & 0o777, 0o600);
  });

  it('kubectl config set-credentials oidc …; kubectl --user=oidc delete po <the elasticsearch pod> as the admin', async () => {
    const set = await sh(setCredentials());
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), 'User "oidc" set.');
    const pod = await esPod();
    // the token setup cached is used: no new login
    const del = await withLogin(`kubectl --user=oidc delete po ${pod}`, undefined);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout.trim(), `pod "${pod}" deleted`);
    // "Don't worry about the pod! It will come back since it's part of a replica."
    const back = await esPod(pod);
    assert.match((await sh('kubectl get pods -n default -o wide')).stdout, new RegExp(`^${back}\\s`, 'm'));
    const who = await sh('kubectl --user=oidc auth whoami -o json');
    assert.equal(who.code, 0, who.stderr);
    assert.deepEqual(JSON.parse(who.stdout).status.userInfo, { username: 'oidc:admin@fusionauth.local', groups: ['oidc:admin', 'system:authenticated'] });
    assert.equal((await sh('kubectl --user=oidc auth can-i delete pods')).stdout.trim(), 'yes');
  });

  it('rm -rf ~/.kube/cache/oidc-login; viewer@ logs in through kubectl and is refused with kube-apiserver\'s message', async () => {
    assert.equal((await sh('rm -rf ~/.kube/cache/oidc-login')).code, 0);
    assert.equal((await sh(setCredentials())).code, 0);
    // the exec plugin logs in (and refuses a forged redirect while it waits)
    const pod = await esPod();
    const del = await withLogin(`kubectl --user=oidc delete po ${pod}`, VIEWER, { forgeState: true });
    assert.deepEqual(del.logins, ['viewer@fusionauth.local']);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /Please visit the following URL in your browser: http:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(del.stderr.trim().split('\n').at(-1), `Error from server (Forbidden): pods "${pod}" is forbidden: User "oidc:viewer@fusionauth.local" cannot delete resource "pods" in API group "" in the namespace "default"`);
    assert.doesNotMatch(del.stdout + del.stderr, JWT_LIKE);
    // the viewer still sees the pods, from the cache (no login)
    const get = await withLogin('kubectl --user=oidc get pods -n default -o wide', undefined);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, new RegExp(`^${pod}\\s`, 'm'));
    const no = await sh('kubectl --user=oidc auth can-i delete pods || true');
    assert.equal(no.stdout.trim(), 'no');
    const claims = claimsOf(cachedIdToken());
    assert.equal(claims['email'], 'viewer@fusionauth.local');
    assert.deepEqual(claims['roles'], ['viewer']);
  });

  it('an id token about to expire is renewed with the refresh token, without a login', async () => {
    const clean = await sh('tessera oidc-login clean');
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stderr, /Deleted the token cache/);
    assert.equal(existsSync(cacheDir()), false);
    provider.idTokenTtl = 5;
    const first = await withLogin('kubectl --user=oidc get pods -n default', VIEWER);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.logins, ['viewer@fusionauth.local']);
    const shortLived = cachedIdToken();
    assert.ok(claimsOf(shortLived)['exp'] - claimsOf(shortLived)['iat'] <= 5);
    provider.idTokenTtl = 3600;
    const grantsBefore = provider.grants.length;
    const second = await withLogin('kubectl --user=oidc get pods -n default', undefined);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(provider.grants.slice(grantsBefore), ['refresh_token']);
    const renewed = cachedIdToken();
    assert.notEqual(renewed, shortLived);
    assert.equal(claimsOf(renewed)['email'], 'viewer@fusionauth.local');
    assert.ok(claimsOf(renewed)['exp'] - claimsOf(renewed)['iat'] > 3000);
  });

  it('client.authentication.k8s.io/v1: the kubeconfig user setup prints, and the ExecCredential get-token prints', async () => {
    const stanza = await sh(`tessera oidc-login setup --no-login --user=oidc-v1 --exec-api-version=client.authentication.k8s.io/v1 \\
  --oidc-issuer-url=${provider.issuer} --oidc-client-id=${provider.clientId} --oidc-client-secret=${provider.clientSecret} \\
  --certificate-authority=${provider.caFile} --listen-address=127.0.0.1:${port}`);
    assert.equal(stanza.code, 0, stanza.stderr);
    const yamlText = /or put this user in the kubeconfig:\n\n([\s\S]*?)\n## Use it/.exec(stanza.stdout)?.[1];
    assert.ok(yamlText, stanza.stdout);
    const users = (parseYaml(yamlText) as { users: { name: string; user: { exec: Record<string, unknown> } }[] }).users;
    assert.equal(users[0]!.name, 'oidc-v1');
    assert.equal(users[0]!.user.exec['command'], 'tessera');
    assert.deepEqual((users[0]!.user.exec['args'] as string[]).slice(0, 2), ['oidc-login', 'get-token']);
    const cfg = parseYaml(readFileSync(kubeconfig, 'utf8')) as { users: unknown[] };
    cfg.users.push(...users);
    writeFileSync(kubeconfig, stringify(cfg), { mode: 0o600 });
    // same issuer, client and scopes: the cached token serves this user too
    const who = await withLogin('kubectl --user=oidc-v1 auth whoami -o jsonpath={.status.userInfo.username}', undefined);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, 'oidc:viewer@fusionauth.local');

    for (const apiVersion of ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']) {
      const info = JSON.stringify({ kind: 'ExecCredential', apiVersion, spec: { interactive: false } });
      const r = await run(process.execPath, [OWN_CLI, 'oidc-login', 'get-token', `--oidc-issuer-url=${provider.issuer}`, `--oidc-client-id=${provider.clientId}`, `--oidc-client-secret=${provider.clientSecret}`, `--certificate-authority=${provider.caFile}`, `--listen-address=127.0.0.1:${port}`, '--skip-open-browser'], { env: { ...env, KUBERNETES_EXEC_INFO: info }, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const cred = JSON.parse(r.stdout) as { kind: string; apiVersion: string; spec: unknown; status: { token: string; expirationTimestamp: string } };
      assert.equal(cred.kind, 'ExecCredential');
      assert.equal(cred.apiVersion, apiVersion);
      assert.deepEqual(cred.spec, { interactive: false });
      assert.equal(cred.status.token, cachedIdToken());
      assert.equal(cred.status.expirationTimestamp, new Date(claimsOf(cred.status.token)['exp'] * 1000).toISOString().replace('.000Z', 'Z'));
    }
    // a version kubectl does not speak is refused
    const bad = await run(process.execPath, [OWN_CLI, 'oidc-login', 'get-token', `--oidc-issuer-url=${provider.issuer}`, `--oidc-client-id=${provider.clientId}`], { env: { ...env, KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1alpha1"}' } });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unsupported apiVersion/);
  });

  it('the provider refuses a redirect the application did not register; the cache holds no client secret', async () => {
    const b = new HttpBrowser(provider.ca);
    const a = new URL(`${provider.issuer}/auth`);
    for (const [k, v] of Object.entries({ client_id: provider.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'http://127.0.0.1:1', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })) a.searchParams.set(k, v);
    const refused = await b.follow('GET', a.href);
    assert.equal(refused.status, 400);
    assert.match(refused.body, /invalid_redirect_uri/);
    for (const f of readdirSync(cacheDir())) {
      assert.match(f, /^[0-9a-f]{64}$/);
      assert.doesNotMatch(readFileSync(join(cacheDir(), f), 'utf8'), new RegExp(provider.clientSecret));
    }
  });
});
