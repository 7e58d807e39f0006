/**
 * The reference Kubernetes control plane for tests (issue #21), like controller-runtime's envtest:
 * etcd, kube-apiserver and optionally kube-controller-manager and kube-scheduler, built from Go
 * modules by scripts/kube-reference/build.sh, started on loopback with free ports and a fresh CA in
 * a temporary directory.
 *
 *   const bins = referenceBinaries();
 *   test('…', { skip: 'skip' in bins ? bins.skip : false }, async () => {
 *     const cluster = await startReferenceCluster({ withControllers: true });
 *     try { … await cluster.kubectl(['get', 'ns']) … } finally { await cluster.stop(); }
 *   });
 *
 * `stop()` signals exactly the processes it started, by PID (SIGTERM, then SIGKILL after a grace
 * period), and removes the temporary directory; it is idempotent. A start that fails stops what it
 * had started before throwing (with the tail of the failing process's log in the message).
 * TESSERA_KUBE_KEEP=1 keeps the directory (logs, certificates, kubeconfigs) for debugging.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { x509 } from '../../src/identity/x509-runtime.js';
import { freePort } from '../../src/lib/test-processes.js';
import { REPO_ROOT, run, type RunResult } from './mesh.js';

export const KUBE_REFERENCE_DIR = join(REPO_ROOT, 'scripts', 'kube-reference');
const REQUIRED = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const;
/** The Service range of the reference cluster; its first address is the `kubernetes` Service's. */
export const SERVICE_CIDR = '10.0.0.0/24';
const SERVICE_IP = '10.0.0.1';
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ReferenceBinaries {
  /** directory holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm */
  binDir: string;
  /** the k8s.io/kubernetes release they were built from, e.g. v1.37.2 */
  kubernetesVersion: string;
}

export interface ReferenceCluster {
  /** path of an admin kubeconfig: user `admin` with a client certificate in group system:masters */
  kubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  binDir: string;
  kubernetesVersion: string;
  /** the temporary directory holding certificates, kubeconfigs, etcd's data and the logs */
  dir: string;
  /** the processes this cluster started (name and PID), in start order */
  processes: ReadonlyArray<{ name: string; pid: number }>;
  /** runs `kubectl --kubeconfig <admin> ARGS...` (HOME and the discovery cache inside `dir`) */
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /** the tail of one component's log (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) */
  log(name: string, lines?: number): string;
  /**
   * A kubeconfig for a node agent: user `system:node:<nodeName>` in group `system:nodes` (a client
   * certificate of the cluster CA, as a kubelet holds after TLS bootstrap), so the Node authorizer
   * and the `system:node` rules apply to it.
   */
  nodeKubeconfig(nodeName: string): Promise<string>;
  stop(): Promise<void>;
}

function parseEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(?:"([^"]*)"|(\S*))\s*$/.exec(line);
    if (m) out[m[1]!] = m[2] ?? m[3] ?? '';
  }
  return out;
}

export function kubeReferenceCacheRoot(): string {
  return process.env.TESSERA_KUBE_CACHE || join(homedir(), '.cache', 'tessera', 'kube-reference');
}

function goInstalled(): boolean {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...dirs, '/usr/local/go/bin'].some((d) => existsSync(join(d, 'go')));
}

/**
 * Where the built reference binaries are, or why a test needing them must skip (one line). Looks,
 * in versions.env's order, for the first cache key with a stamp and every binary; TESSERA_KUBE_BIN_DIR
 * overrides the lookup.
 */
export function referenceBinaries(): ReferenceBinaries | { skip: string } {
  const override = process.env.TESSERA_KUBE_BIN_DIR;
  if (override) {
    const missing = REQUIRED.filter((b) => !existsSync(join(override, b)));
    if (missing.length) return { skip: `TESSERA_KUBE_BIN_DIR=${override} lacks ${missing.join(', ')}` };
    return { binDir: override, kubernetesVersion: process.env.TESSERA_KUBE_VERSION ?? 'unknown' };
  }
  const versions = parseEnvFile(join(KUBE_REFERENCE_DIR, 'versions.env'));
  const kubeVersions = (versions.KUBE_VERSIONS ?? '').split(/\s+/).filter(Boolean);
  const suffix = `-etcd${(versions.ETCD_VERSION ?? '').replace(/^v/, '')}-helm${(versions.HELM_VERSION ?? '').replace(/^v/, '')}`;
  const root = kubeReferenceCacheRoot();
  const failures: string[] = [];
  for (const kv of kubeVersions) {
    const dir = join(root, kv + suffix);
    if (existsSync(join(dir, 'stamp')) && REQUIRED.every((b) => existsSync(join(dir, 'bin', b)))) {
      return { binDir: join(dir, 'bin'), kubernetesVersion: kv };
    }
    const failed = join(dir, 'FAILED');
    if (existsSync(failed)) failures.push(parseEnvFile(failed).reason ?? readFileSync(failed, 'utf8').trim());
  }
  const wanted = join(root, (kubeVersions[0] ?? '?') + suffix, 'bin');
  if (!goInstalled()) return { skip: `reference Kubernetes not built: Go is not installed (scripts/kube-reference/build.sh builds it into ${wanted})` };
  if (failures.length) return { skip: `reference Kubernetes not built: ${failures.join('; ')}` };
  return { skip: `reference Kubernetes not built: run scripts/kube-reference/build.sh (nothing in ${wanted})` };
}

// ---------------------------------------------------------------------------------------------
// PKI: a CA, the API server's serving certificate and client certificates, all ECDSA P-256.

interface KeyPairPem {
  keys: webcrypto.CryptoKeyPair;
  keyPem: string;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function newKey(): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { keys, keyPem };
}

function serial(): string {
  // positive, 16 bytes
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01;
  return Buffer.from(b).toString('hex');
}

interface Ca {
  cert: x509.X509Certificate;
  certPem: string;
  key: KeyPairPem;
}

async function createCa(commonName: string): Promise<Ca> {
  const key = await newKey();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 7 * 24 * 3600_000),
    keys: key.keys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
    ],
  });
  return { cert, certPem: cert.toString('pem') + '\n', key };
}

async function issue(
  ca: Ca,
  spec: { cn: string; orgs?: string[]; server?: { dns: string[]; ips: string[] }; client?: boolean },
): Promise<{ certPem: string; keyPem: string }> {
  const key = await newKey();
  const now = Date.now();
  const usages: string[] = [];
  if (spec.server) usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (spec.client) usages.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  if (spec.server) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        [...spec.server.dns.map((value) => ({ type: 'dns' as const, value })), ...spec.server.ips.map((value) => ({ type: 'ip' as const, value }))],
        false,
      ),
    );
  }
  const subject: x509.JsonName = [...(spec.orgs ?? []).map((o) => ({ O: [o] })), { CN: [spec.cn] }];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 7 * 24 * 3600_000),
    publicKey: key.keys.publicKey,
    signingKey: ca.key.keys.privateKey,
    signingAlgorithm: SIGN,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: key.keyPem };
}

function kubeconfigYaml(server: string, caFile: string, user: string, certFile: string, keyFile: string): string {
  // JSON is YAML; paths are absolute, so the file works from any directory.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'reference', cluster: { server, 'certificate-authority': caFile } }],
      users: [{ name: user, user: { 'client-certificate': certFile, 'client-key': keyFile } }],
      contexts: [{ name: 'reference', context: { cluster: 'reference', user } }],
      'current-context': 'reference',
    },
    null,
    2,
  );
}

// ---------------------------------------------------------------------------------------------
// Processes

/** PIDs started here and still running: killed if the test process exits without stop(). */
const livePids = new Set<number>();
let exitHookInstalled = false;
function trackPid(pid: number): void {
  livePids.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of livePids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  }
}

interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

function exitedNow(p: { child: ChildProcess }): boolean {
  return p.child.exitCode !== null || p.child.signalCode !== null;
}

async function terminate(p: Proc, graceMs: number): Promise<void> {
  if (!exitedNow(p) && p.child.pid !== undefined) {
    try {
      process.kill(p.child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const timedOut = await Promise.race([p.exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
    if (timedOut && !exitedNow(p)) {
      try {
        process.kill(p.child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await p.exited;
    }
  }
  if (p.child.pid !== undefined) livePids.delete(p.child.pid);
}

/** One GET; resolves with the status code and body, or with code 0 on a connection error. */
function get(url: string, tls?: { ca?: string; cert?: string; key?: string; insecure?: boolean }): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    const onRes = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ code: 0, body }));
    };
    const req = url.startsWith('https:')
      ? request(url, { ca: tls?.ca, cert: tls?.cert, key: tls?.key, rejectUnauthorized: !tls?.insecure, timeout: 5000 }, onRes)
      : httpRequest(url, { timeout: 5000 }, onRes);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ code: 0, body: '' }));
    req.end();
  });
}

export interface StartOptions {
  /** also start kube-controller-manager and kube-scheduler (default false) */
  withControllers?: boolean;
  /** extra kube-apiserver flags (`--name=value`) */
  apiserverFlags?: string[];
  /** how long each component may take to become ready (default 120 s: 2 shared cores are slow) */
  readyTimeoutMs?: number;
  /**
   * The API server calls kubelets (logs, exec) with a client certificate of the cluster CA
   * (CN kube-apiserver-kubelet-client, group system:masters) and verifies their serving certificates
   * against the cluster CA: `--kubelet-client-certificate/-key`, `--kubelet-certificate-authority`.
   * Without it, the API server presents no certificate and does not verify the kubelet's.
   */
  kubeletClient?: boolean;
}

export async function startReferenceCluster(opts: StartOptions = {}): Promise<ReferenceCluster> {
  const bins = referenceBinaries();
  if ('skip' in bins) throw new Error(bins.skip);
  const { binDir, kubernetesVersion } = bins;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-kube-ref-'));
  const procs: Proc[] = [];
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // reverse start order: controllers first, etcd last
      for (const p of [...procs].reverse()) await terminate(p, 10_000);
      if (process.env.TESSERA_KUBE_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    })());

  const file = (name: string, content: string, mode = 0o600): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode });
    return path;
  };

  const start = (name: string, args: string[]): Proc => {
    const logFile = join(dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(join(binDir, name), args, { cwd: dir, stdio: ['ignore', fd, fd], env: { ...process.env, HOME: dir } });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<void>((resolve) => {
      if (exitedNow({ child })) resolve();
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    if (child.pid !== undefined) trackPid(child.pid);
    const proc: Proc = { name, child, logFile, exited };
    procs.push(proc);
    return proc;
  };

  const waitReady = async (p: Proc, what: string, probe: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    let spawnError: Error | undefined;
    p.child.once('error', (e) => (spawnError = e));
    for (;;) {
      if (spawnError) throw new Error(`${p.name} did not start: ${spawnError.message}`);
      if (exitedNow(p)) throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) before ${what}; its log ends:\n${tail(p.logFile)}`);
      if (await probe()) return;
      if (Date.now() > deadline) throw new Error(`${p.name}: timed out after ${readyTimeoutMs} ms waiting for ${what}; its log ends:\n${tail(p.logFile)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  try {
    // PKI
    const ca = await createCa('tessera-reference-ca');
    const caFile = file('ca.crt', ca.certPem, 0o644);
    file('ca.key', ca.key.keyPem);
    const serving = await issue(ca, {
      cn: 'kube-apiserver',
      server: {
        dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
        ips: ['127.0.0.1', SERVICE_IP],
      },
    });
    const servingCert = file('apiserver.crt', serving.certPem, 0o644);
    const servingKey = file('apiserver.key', serving.keyPem);
    const sa = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const saKey = file('sa.key', sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const saPub = file('sa.pub', createPublicKey(sa.privateKey).export({ type: 'spki', format: 'pem' }).toString(), 0o644);

    const [etcdClientPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const server = `https://127.0.0.1:${apiPort}`;
    const clientFor = async (user: string, cn: string, orgs: string[]): Promise<string> => {
      const c = await issue(ca, { cn, orgs, client: true });
      const certFile = file(`${user}.crt`, c.certPem, 0o644);
      const keyFile = file(`${user}.key`, c.keyPem);
      return file(`${user}.kubeconfig`, kubeconfigYaml(server, caFile, user, certFile, keyFile));
    };
    const kubeconfig = await clientFor('admin', 'admin', ['system:masters']);
    const kubeletClientFlags = async (): Promise<string[]> => {
      if (!opts.kubeletClient) return [];
      const c = await issue(ca, { cn: 'kube-apiserver-kubelet-client', orgs: ['system:masters'], client: true });
      return [
        `--kubelet-client-certificate=${file('apiserver-kubelet-client.crt', c.certPem, 0o644)}`,
        `--kubelet-client-key=${file('apiserver-kubelet-client.key', c.keyPem)}`,
        `--kubelet-certificate-authority=${caFile}`,
      ];
    };
    const admin = { ca: ca.certPem, cert: readFileSync(join(dir, 'admin.crt'), 'utf8'), key: readFileSync(join(dir, 'admin.key'), 'utf8') };

    // etcd: plain HTTP on loopback only, no fsync (test data)
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = start('etcd', [
      '--name=reference',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=reference=${peerUrl}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitReady(etcd, '/health', async () => {
      const r = await get(`${etcdUrl}/health`);
      return r.code === 200 && /"health":\s*"true"/.test(r.body);
    });

    const apiserver = start('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${servingCert}`,
      `--tls-private-key-file=${servingKey}`,
      `--client-ca-file=${caFile}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=${SA_ISSUER}`,
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true',
      // a loopback address is no valid endpoint for the `kubernetes` Service: do not reconcile it
      '--endpoint-reconciler-type=none',
      ...(await kubeletClientFlags()),
      ...(opts.apiserverFlags ?? []),
    ]);
    await waitReady(apiserver, '/readyz', async () => (await get(`${server}/readyz`, admin)).code === 200);

    if (opts.withControllers) {
      const kcmKubeconfig = await clientFor('kube-controller-manager', 'system:kube-controller-manager', []);
      const schedKubeconfig = await clientFor('kube-scheduler', 'system:kube-scheduler', []);
      const [kcmPort, schedPort] = [await freePort(), await freePort()];
      const kcm = start('kube-controller-manager', [
        `--kubeconfig=${kcmKubeconfig}`,
        `--authentication-kubeconfig=${kcmKubeconfig}`,
        `--authorization-kubeconfig=${kcmKubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, 'kcm-certs')}`,
        '--leader-elect=false',
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${caFile}`,
        `--cluster-signing-cert-file=${caFile}`,
        `--cluster-signing-key-file=${join(dir, 'ca.key')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--controllers=*',
      ]);
      const sched = start('kube-scheduler', [
        `--kubeconfig=${schedKubeconfig}`,
        `--authentication-kubeconfig=${schedKubeconfig}`,
        `--authorization-kubeconfig=${schedKubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${schedPort}`,
        `--cert-dir=${join(dir, 'scheduler-certs')}`,
        '--leader-elect=false',
      ]);
      await waitReady(kcm, '/healthz', async () => (await get(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })).code === 200);
      await waitReady(sched, '/healthz', async () => (await get(`https://127.0.0.1:${schedPort}/healthz`, { insecure: true })).code === 200);
    }

    const kubectlEnv = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
      ...process.env,
      HOME: dir,
      KUBECONFIG: kubeconfig,
      KUBECACHEDIR: join(dir, 'kubectl-cache'),
      ...extra,
    });
    return {
      kubeconfig,
      server,
      binDir,
      kubernetesVersion,
      dir,
      processes: procs.map((p) => ({ name: p.name, pid: p.child.pid ?? -1 })),
      kubectl: (args, o = {}) =>
        run(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
          env: kubectlEnv(o.env),
          cwd: dir,
          ...(o.input !== undefined ? { input: o.input } : {}),
          ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        }),
      log: (name, lines = 50) => tail(join(dir, `${name}.log`), lines),
      nodeKubeconfig: (nodeName) => clientFor(`node-${nodeName}`, `system:node:${nodeName}`, ['system:nodes']),
      stop,
    };
  } catch (err) {
    await stop();
    throw new ReferenceClusterStartError(
      err instanceof Error ? err.message : String(err),
      dir,
      procs.map((p) => ({ name: p.name, pid: p.child.pid ?? -1 })),
      err,
    );
  }
}

/** A start that failed, after everything it had started was stopped and its directory removed. */
export class ReferenceClusterStartError extends Error {
  constructor(
    message: string,
    /** the temporary directory (removed unless TESSERA_KUBE_KEEP=1) */
    readonly dir: string,
    /** the processes it had started (all stopped) */
    readonly processes: ReadonlyArray<{ name: string; pid: number }>,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = 'ReferenceClusterStartError';
  }
}
