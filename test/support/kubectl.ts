/**
 * Real kubectl against a local mesh (issue #9 item 9). `kubectlBinaries()` finds the oldest and the
 * newest kubectl this machine has: Debian's kubectl 1.20 (package kubernetes-client, unpacked by
 * scripts/install-kubectl-debian.sh into a cache folder because it conflicts with a newer
 * /usr/bin/kubectl) and the newest google-cloud-sdk kubectl (else /usr/bin/kubectl);
 * `missingKubectls()` says, in one line each, which of the two is not there. `kubectl(mesh, args,
 * { bin })` runs one with KUBECONFIG=<state>/kubeconfig (the file `tessera up` writes) and a HOME
 * (so a discovery cache) of its own per mesh and binary, bounded by a timeout. `kubeApi(mesh)` is
 * a raw HTTPS client with the kubeconfig's CA and client certificate, for the protocol edge cases
 * kubectl hides. `startKubectlMesh()` is `startMesh()`, run with the CLI of the build this file
 * belongs to (see there).
 *
 *   const [bin] = kubectlBinaries();
 *   const r = await kubectl(mesh, ['get', 'pods', '-n', 'httpbin'], { bin });
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT, SAMPLES, SEEDS, run, startMesh, type RunResult, type TestMesh } from './mesh.js';

export interface KubectlBinary {
  /** major.minor of the client, e.g. "1.20" */
  version: string;
  /** the client's full gitVersion, e.g. "v1.20.2" */
  gitVersion: string;
  path: string;
}

/** Where scripts/install-kubectl-debian.sh unpacks Debian's kubernetes-client package. */
export function kubectlCacheDir(): string {
  return process.env['TESSERA_KUBECTL_CACHE'] || join(homedir(), '.cache', 'tessera', 'kubectl');
}

/** The Debian kubectl's path in the cache (whether or not it is there). */
export function debianKubectlPath(): string {
  return join(kubectlCacheDir(), 'kubernetes-client', 'usr', 'bin', 'kubectl');
}

const GCLOUD_BIN = '/usr/lib/google-cloud-sdk/bin';

function clientVersion(path: string): { version: string; gitVersion: string } | undefined {
  try {
    const out = execFileSync(path, ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const v = (JSON.parse(out) as { clientVersion: { major: string; minor: string; gitVersion: string } }).clientVersion;
    return { version: `${v.major}.${v.minor.replace(/\D+$/, '')}`, gitVersion: v.gitVersion };
  } catch {
    return undefined;
  }
}

function newestPath(): string | undefined {
  const override = process.env['TESSERA_KUBECTL_NEWEST'];
  if (override) return existsSync(override) ? override : undefined;
  let versioned: { minor: number; path: string } | undefined;
  try {
    for (const name of readdirSync(GCLOUD_BIN)) {
      const m = /^kubectl\.1\.(\d+)$/.exec(name);
      if (m && (!versioned || Number(m[1]) > versioned.minor)) versioned = { minor: Number(m[1]), path: join(GCLOUD_BIN, name) };
    }
  } catch {
    // no google-cloud-sdk
  }
  if (versioned) return versioned.path;
  return existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : undefined;
}

interface Wanted {
  role: 'oldest' | 'newest';
  path: string | undefined;
  missing: string;
}

let cached: { found: KubectlBinary[]; missing: { role: string; skip: string }[] } | undefined;

function lookup(): NonNullable<typeof cached> {
  if (cached) return cached;
  const oldest = process.env['TESSERA_KUBECTL_OLDEST'] || debianKubectlPath();
  const wanted: Wanted[] = [
    { role: 'oldest', path: existsSync(oldest) ? oldest : undefined, missing: `Debian's kubectl 1.20 is not in ${oldest}: run scripts/install-kubectl-debian.sh` },
    { role: 'newest', path: newestPath(), missing: `no newer kubectl: none in ${GCLOUD_BIN} (kubectl.1.N) nor /usr/bin/kubectl` },
  ];
  const found: KubectlBinary[] = [];
  const missing: { role: string; skip: string }[] = [];
  for (const w of wanted) {
    const v = w.path === undefined ? undefined : clientVersion(w.path);
    if (!w.path || !v) missing.push({ role: w.role, skip: w.path ? `${w.path} does not run (kubectl version --client failed)` : w.missing });
    else if (!found.some((f) => f.version === v.version)) found.push({ ...v, path: w.path });
  }
  cached = { found, missing };
  return cached;
}

/** The oldest (Debian's 1.20) and the newest kubectl on this machine, those that exist and run; oldest first. */
export function kubectlBinaries(): KubectlBinary[] {
  return lookup().found;
}

/** One line per wanted kubectl that is missing: why, and how to get it. */
export function missingKubectls(): { role: string; skip: string }[] {
  return lookup().missing;
}

/** KUBECONFIG and a HOME of its own (discovery and http caches) per mesh and kubectl version. */
function kubectlEnv(mesh: TestMesh, bin: KubectlBinary): NodeJS.ProcessEnv {
  const home = join(mesh.stateDir, `kubectl-home-${bin.version}`);
  mkdirSync(home, { recursive: true });
  return { ...process.env, KUBECONFIG: kubeconfigPath(mesh), HOME: home, SAMPLES, SEEDS };
}

export function kubeconfigPath(mesh: TestMesh): string {
  return join(mesh.stateDir, 'kubeconfig');
}

/** Runs `<bin> ARGS...` against `mesh`; killed after `timeoutMs` (default 60 s), which fails the call. */
export function kubectl(mesh: TestMesh, args: string[], opts: { bin: KubectlBinary; input?: string; timeoutMs?: number }): Promise<RunResult> {
  return run(opts.bin.path, args, { env: kubectlEnv(mesh, opts.bin), timeoutMs: opts.timeoutMs ?? 60_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

/** A running kubectl (e.g. `logs -f`): its output so far, and `stop()` that kills exactly it (by PID). */
export interface KubectlProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** resolves with the exit code (or the signal's name) once it has ended */
  exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

export function spawnKubectl(mesh: TestMesh, args: string[], opts: { bin: KubectlBinary }): KubectlProcess {
  const child = spawn(opts.bin.path, args, { env: kubectlEnv(mesh, opts.bin), cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end();
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => resolve(code ?? signal ?? -1));
    child.on('error', () => resolve(-1));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const t = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5_000);
        const r = await exited;
        clearTimeout(t);
        return r;
      }
      return exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Raw HTTPS with the kubeconfig's credentials.

export interface KubeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** the body parsed as JSON, undefined when it is not JSON */
  json: any;
}

export interface KubeApi {
  server: string;
  /** `credentials: false` sends no client certificate (and no token) */
  request(method: string, path: string, opts?: { body?: unknown; contentType?: string; accept?: string; credentials?: boolean; timeoutMs?: number }): Promise<KubeResponse>;
}

interface KubeconfigFile {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  users: { name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string; 'client-certificate'?: string; 'client-key'?: string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

/** A raw HTTPS client for the current context of any kubeconfig (inline data or file paths). */
export function kubeApiOf(kubeconfig: string): KubeApi {
  const cfg = parseYaml(readFileSync(kubeconfig, 'utf8')) as KubeconfigFile;
  const ctx = cfg.contexts.find((c) => c.name === cfg['current-context'])!.context;
  const cluster = cfg.clusters.find((c) => c.name === ctx.cluster)!.cluster;
  const user = cfg.users.find((u) => u.name === ctx.user)!.user;
  const pem = (data: string | undefined, file: string | undefined): string => {
    if (data) return Buffer.from(data, 'base64').toString('utf8');
    if (file) return readFileSync(isAbsolute(file) ? file : resolve(dirname(kubeconfig), file), 'utf8');
    return '';
  };
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = pem(user['client-certificate-data'], user['client-certificate']);
  const key = pem(user['client-key-data'], user['client-key']);
  const base = new URL(cluster.server);
  return {
    server: cluster.server,
    request: (method, path, opts = {}) =>
      new Promise<KubeResponse>((resolvePromise, reject) => {
        const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
        if (body !== undefined) {
          headers['content-type'] = opts.contentType ?? 'application/json';
          headers['content-length'] = String(Buffer.byteLength(body));
        }
        const options: RequestOptions = { method, hostname: base.hostname, port: base.port, path, headers, ca, agent: false };
        if (opts.credentials !== false) Object.assign(options, { cert, key });
        const req = request(options, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
          res.on('error', reject);
        });
        req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
        req.on('error', reject);
        req.end(body);
      }),
  };
}

/** An HTTPS client for `mesh`'s API: trusts the kubeconfig's CA, presents its client certificate. */
export function kubeApi(mesh: TestMesh): KubeApi {
  return kubeApiOf(kubeconfigPath(mesh));
}

/** Newline-delimited watch events of a finished (or timed out) watch response. */
export function watchEvents(text: string): { type: string; object: any }[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; object: any });
}

// ---------------------------------------------------------------------------------------------
// Starting a mesh.

/** The CLI of the build this file belongs to (dist/ under `npm test`, the --outDir of a private build otherwise). */
const OWN_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/**
 * `startMesh()` from mesh.ts with the CLI of this build. mesh.ts's CLI is always
 * `<repo>/dist/src/cli/main.js`: under `npm test` that is this build's CLI; when the tests were
 * compiled into another --outDir (as parallel work in one checkout does), the same steps run with
 * this build's CLI, so the daemon under test is the code these tests were built with.
 */
export function startKubectlMesh(meshName = 'fsm', extraUpArgs: string[] = []): Promise<TestMesh> {
  return startMesh(meshName, extraUpArgs, { cli: OWN_CLI });
}
