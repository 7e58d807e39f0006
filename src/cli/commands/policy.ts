/**
 * `tessera policy check POD -n NS --method M --path P [-H 'k: v']... [--token JWT | --token-file F]
 * [--source-identity sa.ns | --source-ip IP] [--port N] [-o json]`: the decision the pod's sidecar
 * would take on that request and why, from the snapshot it applied (config_dump), with the sidecar's
 * own authentication and authorization code; no request is sent. Also the warnings of the policies
 * that apply to the pod.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Resource } from '../../api/types.js';
import type { MeshApi } from '../../local/api-contract.js';
import type { ProxySnapshot } from '../../snapshot/types.js';
import type { CliDeps } from '../deps.js';
import { UsageError } from '../errors.js';
import { collectRaw, namespaceOf, podNameArg, stateDirOf } from './common.js';

/**
 * The pod a target names: `POD` or `pod/NAME` as given; `svc/NAME` (`service/NAME`) one of the
 * Service's ready pods (the first by name), whose sidecar answers for every pod of the service.
 */
async function podOfTarget(api: MeshApi, target: string, namespace: string): Promise<string> {
  const m = /^(svc|service|services)\/(.+)$/.exec(target);
  if (!m) return podNameArg(target);
  const svc = await api.get('Service', m[2]!, namespace);
  const selector = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
  if (Object.keys(selector).length === 0) throw new UsageError(`service ${namespace}/${m[2]} has no selector: name one of its pods instead`);
  const pods = await api.list({ kind: 'Pod', namespace, labelSelector: Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') });
  const ready = (p: Resource): boolean => ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const names = pods.filter(ready).map((p) => p.metadata.name).sort();
  if (names.length === 0) throw new Error(`service ${namespace}/${m[2]} has no ready pod`);
  return names[0]!;
}

export interface PolicyCheckOptions {
  stateDir: string;
  pod: string;
  namespace?: string | undefined;
  method: string;
  path: string;
  headers: string[];
  token?: string | undefined;
  tokenFile?: string | undefined;
  sourceIdentity?: string | undefined;
  sourceIp?: string | undefined;
  port?: string | undefined;
  output?: string | undefined;
}

function parseHeaders(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`-H ${JSON.stringify(h)}: expected "name: value"`);
    const name = h.slice(0, i).trim().toLowerCase();
    const value = h.slice(i + 1).trim();
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
  }
  return out;
}

/** The JWKS document at `uri`, fetched from this machine (the sidecar fetches through the mesh instead). */
async function fetchJwks(uri: string, timeoutMs: number): Promise<string> {
  const res = await fetch(uri, { signal: AbortSignal.timeout(Math.min(timeoutMs, 5000)), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

const WORLD_KINDS = ['Namespace', 'ServiceAccount', 'Service', 'Pod', 'Deployment'];

/** The warnings of the policies the snapshot applies, from the objects as stored now. */
async function policyWarnings(api: MeshApi, snapshot: ProxySnapshot): Promise<string[]> {
  const { lintPolicy, lintWorldOf } = await import('../../policy-lint/index.js');
  const objects: Resource[] = [];
  for (const kind of WORLD_KINDS) objects.push(...(await api.list({ kind, allNamespaces: true }).catch(() => [])));
  const world = lintWorldOf(objects, { sidecar: { sidecarDisabledMTLS: snapshot.Spec.SidecarDisabledMTLS === true } });
  const named = [
    ...new Set((snapshot.Inbound.Authn?.JwtRules ?? []).map((r) => `RequestAuthentication\0${r.Policy}`)),
    ...(snapshot.Inbound.Authz?.Policies ?? []).map((p) => `AuthorizationPolicy\0${p.Name}`),
  ];
  const out: string[] = [];
  for (const key of named) {
    const [kind, ref] = key.split('\0') as [string, string];
    const [ns, name] = ref.split('/') as [string, string];
    const obj = await api.get(kind, name, ns).catch(() => undefined);
    if (obj) out.push(...lintPolicy(obj, world));
  }
  return out;
}

export async function runPolicyCheck(opts: PolicyCheckOptions, deps: CliDeps): Promise<void> {
  if (opts.token !== undefined && opts.tokenFile !== undefined) throw new UsageError('give --token or --token-file, not both');
  if (opts.sourceIdentity !== undefined && opts.sourceIp !== undefined) throw new UsageError('give --source-identity or --source-ip, not both');
  if (opts.output !== undefined && opts.output !== 'json') throw new UsageError(`-o ${opts.output}: only json is supported`);
  if (!opts.path.startsWith('/')) throw new UsageError(`--path ${JSON.stringify(opts.path)}: must start with /`);
  const port = opts.port === undefined ? undefined : Number(opts.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new UsageError(`--port ${opts.port}: not a port number`);
  const headers = parseHeaders(opts.headers);
  const token = opts.tokenFile !== undefined ? (await readFile(opts.tokenFile, 'utf8')).trim() : opts.token;

  const api = await deps.connect(opts.stateDir);
  const namespace = opts.namespace ?? 'default';
  const pod = await podOfTarget(api, opts.pod, namespace);
  const res = await api.proxyGet(namespace, pod, 'config_dump');
  if (res.status !== 200) throw new Error(`proxy of pod ${namespace}/${pod} answered config_dump with HTTP ${res.status}: ${res.body.trim()}`);
  const snapshot = JSON.parse(res.body) as ProxySnapshot;
  const { checkRequest } = await import('../../policy-check/index.js');
  const result = await checkRequest(snapshot, { method: opts.method, path: opts.path, headers, token, sourceIdentity: opts.sourceIdentity, sourceIp: opts.sourceIp, port }, { fetchJwks });
  const warnings = await policyWarnings(api, snapshot);
  const out = { pod: `${namespace}/${pod}`, ...result, warnings };
  if (opts.output === 'json') {
    deps.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const rows: [string, string][] = [
    ['POD', out.pod],
    ['DECISION', `${out.decision}${out.status ? ` (${out.status})` : ''}`],
    ['REASON', out.reason],
  ];
  if (out.policy) rows.push(['POLICY', `${out.policy}${out.rule !== undefined && out.rule >= 0 ? ` rule ${out.rule}` : ''}`]);
  if (out.condition) rows.push(['CONDITION', `${out.condition} (not satisfied)`]);
  rows.push(['PRINCIPAL', out.principal ?? '(none: no mTLS identity, no verified token)']);
  if (out.jwt) rows.push(['JWT', !out.jwt.present ? 'no token' : out.jwt.verified ? `verified: ${out.jwt.principal}` : out.jwt.unverifiable ? `not verified here: ${out.jwt.reason}` : `rejected: ${out.jwt.reason}`]);
  rows.push(['REQUEST', `${opts.method} ${out.normalizedPath} on port ${out.port}`]);
  if (out.shadow) rows.push(['DRY-RUN', `${out.shadow.decision}${out.shadow.policy ? ` by ${out.shadow.policy}${out.shadow.rule !== undefined && out.shadow.rule >= 0 ? ` rule ${out.shadow.rule}` : ''}` : ''} (istio.io/dry-run: not enforced)`]);
  if (out.externalAuthorizers.length > 0) rows.push(['EXTERNAL', `the sidecar would also ask ${out.externalAuthorizers.join(', ')} (not asked: no traffic is sent)`]);
  rows.push(['POLICIES', out.policies.length > 0 ? out.policies.join(', ') : '(none)']);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  let text = rows.map(([k, v]) => `${k.padEnd(width)}${v}\n`).join('');
  if (warnings.length > 0) text += `WARNINGS\n${warnings.map((w) => `  ${w}\n`).join('')}`;
  deps.stdout.write(text);
}

export function registerPolicy(program: Command, deps: CliDeps): void {
  const policy = program.command('policy').description('Explain Istio security policies');
  policy
    .command('check')
    .description("The decision a pod's sidecar would take on a request, and why (no traffic is sent)")
    .argument('<pod>', 'POD, pod/NAME or svc/NAME (one of its ready pods)')
    .option('-n, --namespace <ns>', 'namespace')
    .option('--method <method>', 'request method', 'GET')
    .option('--path <path>', 'request path, query allowed', '/')
    .option('-H, --header <header>', '"name: value" (repeatable)', collectRaw)
    .option('--token <jwt>', 'bearer token, sent as Authorization: Bearer')
    .option('--token-file <file>', 'read the bearer token from a file')
    .option('--source-identity <sa.ns>', 'the caller as a verified mTLS peer (service account.namespace)')
    .option('--source-ip <ip>', 'the caller as a plaintext peer at this address (default 127.0.0.1)')
    .option('--port <port>', "the pod port the request arrives on (default: the pod's first inbound port)")
    .option('-o, --output <format>', 'json')
    .action(async (pod: string, o: { method: string; path: string; header?: string[]; token?: string; tokenFile?: string; sourceIdentity?: string; sourceIp?: string; port?: string; output?: string }, cmd: Command) => {
      await runPolicyCheck({ stateDir: stateDirOf(cmd, deps), pod, namespace: namespaceOf(cmd), method: o.method, path: o.path, headers: o.header ?? [], token: o.token, tokenFile: o.tokenFile, sourceIdentity: o.sourceIdentity, sourceIp: o.sourceIp, port: o.port, output: o.output }, deps);
    });
}
