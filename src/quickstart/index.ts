/**
 * `npm start`: the IAM walkthrough of the seeds on the embedded local mesh, with native TypeScript
 * plugins. Each step prints the command a person would type and the real result; the mesh then
 * keeps running until Ctrl-C.
 */
import { join, resolve } from 'node:path';
import { connectMesh, down, up } from '../local/index.js';
import type { MeshApi } from '../local/index.js';
import { loadManifests } from '../manifest/index.js';
import { requestInPod, requestViaProxy } from './request.js';
import { loadPodSandbox } from '../local/runtime/pod-network.js';
import { resultLine } from '../cli/index.js';

export interface QuickstartOptions {
  stateDir: string;
  meshName: string;
  /** the directory holding the walkthrough's manifests (examples/iam) */
  dir: string;
  out?: (line: string) => void;
  /** keep running until SIGINT/SIGTERM (the default); tests pass false */
  wait?: boolean;
}

export interface StepResult {
  step: string;
  expected: number;
  status: number;
}

const noStdin = (): Promise<string> => Promise.reject(new Error('stdin is not used by the quickstart'));

export async function runQuickstart(opts: QuickstartOptions): Promise<StepResult[]> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const dir = resolve(opts.dir);
  const mesh = opts.meshName;
  out(`$ tessera up --mesh-name ${mesh} --detach`);
  await up({ stateDir: opts.stateDir, meshName: mesh, files: [], detach: true, log: (l) => out(`  ${l}`) });
  const api = await connectMesh(opts.stateDir);
  const results: StepResult[] = [];
  try {
    out(`$ tessera patch meshconfig ${mesh}-mesh-config -n ${mesh}-system -p '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}' --type=merge`);
    await api.patch('MeshConfig', `${mesh}-mesh-config`, `${mesh}-system`, { spec: { featureFlags: { enablePluginPolicy: true } } });
    await apply(api, out, join(dir, '01-namespaces.yaml'));
    out('$ tessera namespace add curl httpbin');
    for (const ns of ['curl', 'httpbin']) {
      await api.patch('Namespace', ns, undefined, {
        metadata: {
          labels: { 'flomesh.io/monitored-by': mesh, 'openservicemesh.io/monitored-by': mesh },
          annotations: { 'flomesh.io/sidecar-injection': 'enabled' },
        },
      });
      out(`  Namespace [${ns}] successfully added to mesh [${mesh}]`);
    }
    await apply(api, out, join(dir, '02-workloads.yaml'));
    await apply(api, out, join(dir, '03-ext-auth.yaml'));
    for (const [ns, app] of [['curl', 'curl'], ['httpbin', 'httpbin'], ['auth', 'ext-auth']] as const) {
      out(`$ tessera wait --for=condition=ready pod -n ${ns} -l app=${app} --timeout=90s`);
      const pods = await api.wait({ kind: 'Pod', namespace: ns, labelSelector: `app=${app}` }, 'ready', 90_000);
      for (const p of pods) out(`  pod/${p.metadata.name} condition met`);
    }
    const [curlPod] = await api.list({ kind: 'Pod', namespace: 'curl', labelSelector: 'app=curl' });
    if (!curlPod) throw new Error('the curl pod did not appear');
    const info = await api.podInfo('curl', curlPod.metadata.name);
    if (!info.proxyUrl) throw new Error('the curl pod has no sidecar');
    const proxyUrl = info.proxyUrl;
    // Namespace mode: from inside the pod, where interception takes the request to the sidecar.
    const inPod = loadPodSandbox(opts.stateDir, 'curl', curlPod.metadata.name);
    const send = (url: string) => (inPod ? requestInPod(inPod.sandbox, inPod.record.appUid, url, 'HEAD') : requestViaProxy(proxyUrl, url, 'HEAD'));

    const probe = async (step: string, path: string, expected: number): Promise<void> => {
      out(`$ tessera exec ${curlPod.metadata.name} -n curl -c curl -- curl -Is http://httpbin.httpbin:14001${path}`);
      // Plugin changes reach sidecars within a moment; retry briefly until the expected answer shows.
      let status = 0;
      let text = '';
      const deadline = Date.now() + 10_000;
      do {
        const r = await send(`http://httpbin.httpbin:14001${path}`);
        status = r.status;
        text = `HTTP/1.1 ${r.status} ${r.statusText}`;
        if (status === expected) break;
        await new Promise((res) => setTimeout(res, 200));
      } while (Date.now() < deadline);
      out(`  ${text}`);
      out(`  ${status === expected ? 'ok' : 'UNEXPECTED'}: ${step} (expected ${expected})`);
      results.push({ step, expected, status });
    };

    await probe('baseline, no plugins', '/get', 200);
    await apply(api, out, join(dir, '04-plugins.yaml'));
    await apply(api, out, join(dir, '05-verifier-config.yaml'));
    await probe('protected path without a token', '/get', 401);
    await probe('unprotected path', '/headers', 200);
    await apply(api, out, join(dir, '06-injector-config.yaml'));
    await probe('protected path with the injected token', '/get', 200);
  } catch (err) {
    out(`error: ${(err as Error).message}`);
    await down(opts.stateDir).catch(() => undefined);
    throw err;
  }
  const failed = results.filter((r) => r.status !== r.expected);
  out(failed.length === 0 ? '\nAll steps gave the expected answers.' : `\n${failed.length} step(s) gave an unexpected answer.`);
  if (opts.wait === false) return results;
  out(`The mesh keeps running (state ${opts.stateDir}). Try: npx tessera get pods -A --state ${opts.stateDir}. Ctrl-C stops it.`);
  // The daemon runs detached, so this process holds nothing open by itself: watch the mesh until
  // Ctrl-C (or until the mesh goes away some other way, e.g. `tessera down` from another shell).
  const reason = await new Promise<string>((res) => {
    const finish = (why: string): void => {
      clearInterval(watch);
      res(why);
    };
    const watch = setInterval(() => {
      api.status().catch(() => finish('the mesh stopped'));
    }, 2000);
    process.once('SIGINT', () => finish('interrupted'));
    process.once('SIGTERM', () => finish('terminated'));
  });
  if (reason === 'the mesh stopped') {
    out('the mesh stopped');
    return results;
  }
  out('stopping the mesh...');
  await down(opts.stateDir);
  return results;
}

async function apply(api: MeshApi, out: (l: string) => void, file: string): Promise<void> {
  out(`$ tessera apply -f ${file}`);
  const docs = await loadManifests([file], noStdin);
  for (const r of await api.apply(docs, {})) out(`  ${resultLine(r).trimEnd()}`);
}
