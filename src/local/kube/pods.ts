/**
 * Pod connections for the local Kubernetes API: container logs read from their files (from the end
 * for `tailLines`, followed across rotations: ../container-log), exec of a command as if inside the pod, and HTTP relayed
 * to a port of the pod (`pods/NAME:15000/proxy/config_dump`).
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import type { IncomingMessage, RequestOptions, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import type { Pod, Resource } from '../../api/types.js';
import { badRequest, StatusError, type LogOptions, type PodConnector } from '../../kube/apiserver/index.js';
import { dialInPod, runInPod } from '../sandbox/index.js';
import { execMounts, loadPodSandbox, withoutProxyVariables } from '../runtime/pod-network.js';
import { acceptExec, acceptPortForward, parseExecQuery, runExecChild } from '../../kube/streaming/index.js';
import { SIDECAR_CONTAINER_NAME, podIPOf } from '../controllers/index.js';
import { SIDECAR_ADMIN_PORT, bootstrapAddress, controllerAddress, injectorAddress, localIPFor, stateFiles } from '../layout.js';
import { APP_ADDRESS_ANNOTATION } from '../controllers/well-known.js';
import { BOOTSTRAP_IMAGE, CONTROLLER_IMAGE, INJECTOR_IMAGE, imageName } from '../runtime/index.js';
import { hasPreviousRun, readContainerLog, readOptionsOf } from '../container-log/index.js';
import { podProcessInfo } from '../client/pod-info.js';
import type { ApiContext } from '../apiserver/context.js';
import { isStaleReuse, PodDialPool } from './pod-dial-pool.js';

function containerNames(pod: Pod): string[] {
  return (pod.spec?.containers ?? []).map((c) => c.name);
}

function chooseContainer(pod: Pod, container: string | undefined): string {
  const names = containerNames(pod);
  if (container) {
    if (!names.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}: choose one of: [${names.join(' ')}]`);
    }
    return container;
  }
  const apps = names.filter((n) => n !== SIDECAR_CONTAINER_NAME);
  if (apps.length === 1 || (apps.length > 0 && names.length === 1)) return apps[0]!;
  if (names.length === 1) return names[0]!;
  throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`);
}

/** exec without a container name (kubectl always sends one): the first that is not the sidecar, as kubectl defaults. */
function defaultExecContainer(pod: Pod): string | undefined {
  return containerNames(pod).find((n) => n !== SIDECAR_CONTAINER_NAME);
}

export function localPodConnector(ctx: ApiContext): PodConnector {
  const dialPool = new PodDialPool();
  return {
    async logs(pod: Resource, opts: LogOptions, signal: AbortSignal): Promise<Readable> {
      const p = pod as Pod;
      const container = chooseContainer(p, opts.container);
      const file = stateFiles.containerLog(ctx.stateDir, p.metadata.namespace!, p.metadata.name, container);
      if (opts.previous && !hasPreviousRun(file)) {
        throw badRequest(`previous terminated container "${container}" in pod "${p.metadata.name}" not found`);
      }
      const uid = p.metadata.uid;
      // a follow ends with the pod, as kubectl's does
      const following = () => ctx.store.get({ kind: 'Pod', namespace: p.metadata.namespace!, name: p.metadata.name })?.metadata.uid === uid;
      return readContainerLog(file, { ...readOptionsOf(opts), following }, signal);
    },

    async exec(pod: Resource, req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
      const p = pod as Pod;
      const options = parseExecQuery(url);
      // the container exec runs in: the one named, else the pod's only app container (its volumes)
      const container = options.container ? chooseContainer(p, options.container) : defaultExecContainer(p);
      const info = podProcessInfo(p, ctx.block, ctx.stateDir);
      const session = await acceptExec(req, socket, head, options);
      const [cmd, ...args] = options.command;
      // Namespace mode: inside the pod's sandbox, as the app's uid, without proxy variables.
      const inPod = loadPodSandbox(ctx.stateDir, p.metadata.namespace!, p.metadata.name);
      const child = inPod
        ? runInPod(inPod.sandbox, options.command, {
          uid: inPod.record.appUid, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', ...withoutProxyVariables(info.env) },
          mounts: execMounts(inPod.record, container), stdio: ['pipe', 'pipe', 'pipe'],
        })
        : spawn(cmd!, args, {
          cwd: ctx.workdir ?? process.cwd(),
          env: { ...process.env, ...info.env },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      await runExecChild(session, child);
    },

    async portForward(pod: Resource, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
      const p = pod as Pod;
      const ip = podIPOf(p, ctx.block);
      if (!ip) throw new StatusError('ServiceUnavailable', `pod ${p.metadata.name} has no IP yet`);
      // Namespace mode: the pod's own localhost, dialed inside its network namespace.
      const inPod = loadPodSandbox(ctx.stateDir, p.metadata.namespace!, p.metadata.name);
      if (inPod) {
        // apps of a pod with a sidecar listen on its private address there, the others on every address
        const local = p.metadata.annotations?.[APP_ADDRESS_ANNOTATION] ?? '127.0.0.1';
        await acceptPortForward(req, socket, head, (port) => dialInPod(inPod.sandbox, local, port));
        return;
      }
      // As in a cluster, a forwarded port is the pod's own localhost: the app's private address, not the sidecar.
      const target = localIPFor(ip);
      await acceptPortForward(req, socket, head, (port) => new Promise<Duplex>((resolve, reject) => {
        const s = connect(port, target);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }));
    },

    async proxy(pod: Resource, port: number | undefined, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
      const p = pod as Pod;
      const ip = listenAddressOf(p, ctx.block);
      if (!ip) throw new StatusError('ServiceUnavailable', `pod ${p.metadata.name} has no IP yet`);
      const target = port ?? firstContainerPort(p);
      if (target === undefined) throw badRequest(`pod ${p.metadata.name} has no port to proxy to: name one as ${p.metadata.name}:PORT`);
      const unreachable = (e: Error): StatusError => new StatusError('ServiceUnavailable', `error trying to reach pod ${p.metadata.name} on port ${target}: ${e.message}`);
      // Namespace mode: the pod's network is not the host's; the connection is made inside the pod.
      const inPod = loadPodSandbox(ctx.stateDir, p.metadata.namespace!, p.metadata.name);
      // the sidecar's admin port is on the pod IP; apps behind a sidecar on the pod's private address
      const host = target === SIDECAR_ADMIN_PORT ? ip : p.metadata.annotations?.[APP_ADDRESS_ANNOTATION] ?? ip;
      const dial = inPod ? () => dialInPod(inPod.sandbox, host, target) : undefined;
      // A GET or HEAD without a body may reuse a kept connection into the pod; anything else gets its own.
      const bodyless = (req.method === 'GET' || req.method === 'HEAD') && !req.headers['transfer-encoding'] && Number(req.headers['content-length'] ?? 0) === 0;
      const reusable = dial !== undefined && bodyless && p.metadata.uid !== undefined;
      let via: Pick<RequestOptions, 'agent' | 'createConnection'> = {};
      if (reusable) {
        via = { agent: dialPool.agentFor(p.metadata.uid!, host, target, dial) };
      } else if (dial) {
        let stream: Duplex;
        try {
          stream = await dial();
        } catch (e) {
          throw unreachable(e as Error);
        }
        via = { createConnection: () => stream as unknown as Socket };
      }
      const headers = { ...req.headers };
      delete headers.authorization;
      delete headers.host;
      if (reusable) {
        // hop-by-hop: the client's own connection says nothing about the kept one into the pod
        delete headers.connection;
        delete headers['keep-alive'];
      }
      const send = (retried: boolean): Promise<void> => new Promise<void>((resolve, reject) => {
        let answered = false;
        const upstream = request({ host: ip, port: target, method: req.method, path, headers, timeout: 10_000, ...via }, (up) => {
          answered = true;
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', resolve);
          up.on('error', reject);
        });
        upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
        upstream.on('error', (e: NodeJS.ErrnoException) => {
          // the pod closed a kept connection as this request went out on it: once more on a new one
          if (reusable && !retried && isStaleReuse(upstream, answered, e)) resolve(send(true));
          else reject(unreachable(e));
        });
        if (reusable) upstream.end();
        else req.pipe(upstream);
      });
      await send(false);
    },
  };
}

/**
 * Where a pod's servers answer: its pod IP, except for the control plane's own components, which
 * keep the fixed addresses sidecars and the daemon know them by (their stand-in for a Service).
 */
function listenAddressOf(pod: Pod, block: number): string | undefined {
  const images = (pod.spec?.containers ?? []).map((c) => imageName(c.image ?? ''));
  if (images.includes(CONTROLLER_IMAGE)) return controllerAddress(block);
  if (images.includes(INJECTOR_IMAGE)) return injectorAddress(block);
  if (images.includes(BOOTSTRAP_IMAGE)) return bootstrapAddress(block);
  return podIPOf(pod, block);
}

function firstContainerPort(pod: Pod): number | undefined {
  for (const c of pod.spec?.containers ?? []) {
    const port = (c.ports ?? [])[0]?.containerPort;
    if (port !== undefined) return port;
  }
  return undefined;
}

