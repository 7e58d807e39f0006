/** `tessera status`: the running mesh's control plane, proxies (connected, applied version) and workloads. */
import type { Command } from 'commander';
import type { MeshStatus } from '../../local/api-contract.js';
import type { CliDeps } from '../deps.js';
import { formatTable } from '../output/table.js';
import { stateDirOf } from './common.js';

export interface StatusOptions {
  stateDir: string;
}

/** Snapshot versions are long hashes; 12 characters tell them apart, as with git. */
function shortVersion(v: string | undefined): string {
  return v ? v.slice(0, 12) : '-';
}

export function formatStatus(s: MeshStatus): string {
  const cp = s.controlPlane;
  const cpDetail = [cp.pod && `pod ${cp.pod}`, cp.url].filter(Boolean).join(', ');
  let out =
    `Mesh:           ${s.meshName}\n` +
    `State:          ${s.stateDir}\n` +
    `API:            ${s.apiUrl} (pid ${s.pid})\n` +
    `Control plane:  ${cp.ready ? 'ready' : 'not ready'}${cpDetail ? ` (${cpDetail})` : ''}\n`;
  out += '\nProxies:\n';
  out += s.proxies.length
    ? formatTable(
        ['NAMESPACE', 'POD', 'CONNECTED', 'APPLIED-VERSION'],
        s.proxies.map((p) => [p.namespace, p.pod, p.connected ? 'true' : 'false', shortVersion(p.appliedVersion)]),
      )
    : '  none\n';
  const errors = s.proxies.filter((p) => p.lastError);
  for (const p of errors) out += `  ${p.namespace}/${p.pod} rejected version ${shortVersion(p.sentVersion)}: ${p.lastError}\n`;
  out += '\nWorkloads:\n';
  out += s.workloads.length
    ? formatTable(
        ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'IP'],
        s.workloads.map((w) => [w.namespace, w.name, w.ready, w.status, String(w.restarts), w.podIP ?? '<none>']),
      )
    : '  none\n';
  return out;
}

export async function runStatus(opts: StatusOptions, deps: CliDeps): Promise<void> {
  const api = await deps.connect(opts.stateDir);
  deps.stdout.write(formatStatus(await api.status()));
}

export function registerStatus(program: Command, deps: CliDeps): void {
  program
    .command('status')
    .description('Show the control plane, proxies and workloads of the running mesh')
    .action(async (_o: unknown, cmd: Command) => {
      await runStatus({ stateDir: stateDirOf(cmd, deps) }, deps);
    });
}
