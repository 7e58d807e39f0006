/**
 * `tessera proxy get QUERY POD`: GET a path on the pod's sidecar admin server and print the body as is.
 * `tessera proxy status`: every proxy's sync state (./proxy-status.ts, loaded when that subcommand runs).
 */
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { namespaceOf, podNameArg, stateDirOf } from './common.js';

export interface ProxyGetOptions {
  stateDir: string;
  query: string;
  pod: string;
  namespace?: string;
}

export async function runProxyGet(opts: ProxyGetOptions, deps: CliDeps): Promise<void> {
  const api = await deps.connect(opts.stateDir);
  const namespace = opts.namespace ?? 'default';
  const pod = podNameArg(opts.pod);
  const res = await api.proxyGet(namespace, pod, opts.query);
  if (res.status < 200 || res.status >= 300) {
    const detail = res.body.trim() ? `: ${res.body.trim()}` : '';
    throw new Error(`proxy of pod ${namespace}/${pod} answered ${opts.query} with HTTP ${res.status}${detail}`);
  }
  // exactly the body: scripts pipe config_dump into jq
  deps.stdout.write(res.body);
}

export function registerProxy(program: Command, deps: CliDeps): void {
  const proxy = program.command('proxy').description("Query a pod's sidecar");
  proxy
    .command('get')
    .description('GET a sidecar admin path (config_dump, certs, stats, ready)')
    .argument('<query>', 'admin path, e.g. config_dump')
    .argument('<pod>', 'POD or pod/NAME')
    .option('-n, --namespace <ns>', 'namespace')
    .action(async (query: string, pod: string, _o: unknown, cmd: Command) => {
      await runProxyGet({ stateDir: stateDirOf(cmd, deps), query, pod, namespace: namespaceOf(cmd) }, deps);
    });
  proxy
    .command('status')
    .description('List every proxy with its sync state: SYNCED, NOT SENT, STALE or NACKED')
    .option('-o, --output <format>', 'json')
    .action(async (o: { output?: string }, cmd: Command) => {
      const { runProxyStatus } = await import('./proxy-status.js');
      await runProxyStatus({ stateDir: stateDirOf(cmd, deps), ...(o.output !== undefined ? { output: o.output } : {}) }, deps);
    });
}
