/**
 * Pod connections for the local Kubernetes API: container logs read from their files (from the end
 * for `tailLines`, followed as they grow), exec of a command as if inside the pod, and HTTP relayed
 * to a port of the pod (`pods/NAME:15000/proxy/config_dump`).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import type { Pod, Resource } from '../../api/types.js';
import { badRequest, StatusError, type LogOptions, type PodConnector } from '../../kube/apiserver/index.js';
import { dialInPod, runInPod } from '../sandbox/index.js';
import { loadPodSandbox, withoutProxyVariables } from '../runtime/pod-network.js';
import { acceptExec, acceptPortForward, parseExecQuery, runExecChild } from '../../kube/streaming/index.js';
import { SIDECAR_CONTAINER_NAME, podIPOf } from '../controllers/index.js';
import { SIDECAR_ADMIN_PORT, bootstrapAddress, controllerAddress, injectorAddress, localIPFor, stateFiles } from '../layout.js';
import { APP_ADDRESS_ANNOTATION } from '../controllers/well-known.js';
import { BOOTSTRAP_IMAGE, CONTROLLER_IMAGE, INJECTOR_IMAGE, imageName } from '../runtime/index.js';
import { podProcessInfo } from '../client/pod-info.js';
import type { ApiContext } from '../apiserver/context.js';

const FOLLOW_POLL_MS = 200;
const TAIL_CHUNK = 64 * 1024;

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

/** The byte offset where the last `lines` lines of a file start, reading backwards in chunks. */
async function tailOffset(file: string, size: number, lines: number): Promise<number> {
  if (lines === 0) return size;
  const fh = await open(file, 'r');
  try {
    let pos = size;
    let seen = 0;
    const buf = Buffer.alloc(TAIL_CHUNK);
    // A final newline ends the last line; it does not start another one.
    let skipTrailing = true;
    while (pos > 0) {
      const len = Math.min(TAIL_CHUNK, pos);
      pos -= len;
      await fh.read(buf, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing) {
          skipTrailing = false;
          continue;
        }
        seen++;
        if (seen === lines) return pos + i + 1;
      }
    }
    return 0;
  } finally {
    await fh.close();
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/** Streams `file` from `start`, then (when following) whatever is appended, until aborted. */
function streamFile(file: string, start: number, opts: LogOptions, signal: AbortSignal): Readable {
  const out = new PassThrough();
  let offset = start;
  let sent = 0;
  const limit = opts.limitBytes;
  const pump = async (): Promise<void> => {
    while (!signal.aborted) {
      const size = await fileSize(file);
      if (size < offset) offset = 0; // rotated or truncated: start over
      if (size > offset) {
        const end = limit !== undefined ? Math.min(size, offset + (limit - sent)) : size;
        if (end > offset) {
          for await (const chunk of createReadStream(file, { start: offset, end: end - 1 })) {
            if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
          }
          sent += end - offset;
          offset = end;
        }
        if (limit !== undefined && sent >= limit) break;
      }
      if (!opts.follow) break;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
    out.end();
  };
  pump().catch((e: unknown) => out.destroy(e as Error));
  return out;
}

export function localPodConnector(ctx: ApiContext): PodConnector {
  return {
    async logs(pod: Resource, opts: LogOptions, signal: AbortSignal): Promise<Readable> {
      const p = pod as Pod;
      const container = chooseContainer(p, opts.container);
      if (opts.previous) {
        throw badRequest(`previous terminated container "${container}" in pod "${p.metadata.name}" not found`);
      }
      const file = stateFiles.containerLog(ctx.stateDir, p.metadata.namespace!, p.metadata.name, container);
      const size = await fileSize(file);
      const start = opts.tailLines !== undefined ? await tailOffset(file, size, opts.tailLines) : 0;
      return streamFile(file, start, opts, signal);
    },

    async exec(pod: Resource, req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
      const p = pod as Pod;
      const options = parseExecQuery(url);
      if (options.container) chooseContainer(p, options.container);
      const info = podProcessInfo(p, ctx.block, ctx.stateDir);
      const session = await acceptExec(req, socket, head, options);
      const [cmd, ...args] = options.command;
      // Namespace mode: inside the pod's sandbox, as the app's uid, without proxy variables.
      const inPod = loadPodSandbox(ctx.stateDir, p.metadata.namespace!, p.metadata.name);
      const child = inPod
        ? runInPod(inPod.sandbox, options.command, {
          uid: inPod.record.appUid, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', ...withoutProxyVariables(info.env) },
          mounts: inPod.record.mounts, stdio: ['pipe', 'pipe', 'pipe'],
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
      // Namespace mode: the pod's network is not the host's; the connection is made inside the pod.
      const inPod = loadPodSandbox(ctx.stateDir, p.metadata.namespace!, p.metadata.name);
      let stream: Duplex | undefined;
      if (inPod) {
        try {
          // the sidecar's admin port is on the pod IP; apps behind a sidecar on the pod's private address
          const host = target === SIDECAR_ADMIN_PORT ? ip : p.metadata.annotations?.[APP_ADDRESS_ANNOTATION] ?? ip;
          stream = await dialInPod(inPod.sandbox, host, target);
        } catch (e) {
          throw new StatusError('ServiceUnavailable', `error trying to reach pod ${p.metadata.name} on port ${target}: ${(e as Error).message}`);
        }
      }
      await new Promise<void>((resolve, reject) => {
        const headers = { ...req.headers };
        delete headers.authorization;
        delete headers.host;
        const via = stream ? { createConnection: () => stream as unknown as import('node:net').Socket } : {};
        const upstream = request({ host: ip, port: target, method: req.method, path, headers, timeout: 10_000, ...via }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', resolve);
          up.on('error', reject);
        });
        upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
        upstream.on('error', (e) => reject(new StatusError('ServiceUnavailable', `error trying to reach pod ${p.metadata.name} on port ${target}: ${e.message}`)));
        req.pipe(upstream);
      });
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

