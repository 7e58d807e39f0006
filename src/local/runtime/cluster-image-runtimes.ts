/**
 * Runtimes of the Kubernetes-mode images `tessera install` deploys (images/Dockerfile):
 * `tessera-controller`, `tessera-injector` and `tessera-bootstrap` under any registry and tag. A pod
 * of one runs what the image runs — the compiled entrypoint its Dockerfile target names, with the
 * container's args — and sees what a kubelet would give it: the container's env from its pod spec
 * (values, Secret and ConfigMap keys, downward-API fields), its volumes and the ServiceAccount token
 * volume (pod-volumes.ts, service-account-token.ts: paths rewritten to the pod's directories).
 *
 * What a cluster's network would provide is mapped the way local pods get it: the in-cluster API
 * (`https://kubernetes.default.svc`, the name a cluster's DNS resolves) is the embedded API's URL
 * (under `tessera node`, the node's API server),
 * and a wildcard listen address (`0.0.0.0:9090`) is narrowed to the pod's own address, where its
 * Service's endpoints point (two pods both "listening on 0.0.0.0:9090" would otherwise collide on
 * the host). These pods run on the host in both pod networks, as the local control plane does
 * (sandbox-host.ts runsOnHost): the embedded API is not routed into sandboxes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Container } from '../../api/types.js';
import { API_PORT, apiAddress, stateFiles, type MeshFile } from '../layout.js';
import { specEnv } from './app-env.js';
import { imageName } from './image-name.js';
import type { ContainerContext, ImageRuntime, ReadinessCheck } from './types.js';

/**
 * Image repository name → the entrypoint of its Dockerfile target, relative to the image's WORKDIR
 * (checked against images/Dockerfile by cluster-image-runtimes.test.ts).
 */
export const CLUSTER_IMAGE_ENTRYPOINTS: Readonly<Record<string, string>> = {
  'tessera-controller': 'dist/src/control-plane/main.js',
  'tessera-injector': 'dist/src/injector/main.js',
  'tessera-bootstrap': 'dist/src/bootstrap/main.js',
};

/** What the images' Dockerfile sets for every image (`ENV`). */
const IMAGE_ENV: Readonly<Record<string, string>> = { NODE_ENV: 'production' };

/** The checkout (or package) root: `dist/src/local/runtime/` is four levels below it, as /opt/tessera is the image's WORKDIR. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The repository's last path segment: `registry:5000/tessera/tessera-injector:0.1.0@sha256:…` → `tessera-injector`. */
export function clusterImageRepository(image: string): string | undefined {
  const name = imageName(image);
  const repository = name.slice(name.lastIndexOf('/') + 1);
  return Object.hasOwn(CLUSTER_IMAGE_ENTRYPOINTS, repository) ? repository : undefined;
}

/** Whether a container runs one of the install's component images. */
export function isClusterComponentImage(image: string): boolean {
  return clusterImageRepository(image) !== undefined;
}

/** The in-cluster API URLs a manifest may name (the `kubernetes` Service of `default`, port 443 implied or explicit). */
const IN_CLUSTER_API = /https:\/\/kubernetes(?:\.default(?:\.svc(?:\.cluster\.local)?)?)?(?::443)?(?=\/|$)/g;

/** A listen address on every interface: `0.0.0.0:P`, `[::]:P`, `:::P` or `:P`. */
const WILDCARD_LISTEN = /^(?:0\.0\.0\.0|\[::\]|::)?:(\d{1,5})$/;

/** The embedded API's URL: mesh.json's (written before any pod starts), else the block's fixed address (`tessera node` sets `ctx.apiUrl`). */
function embeddedApiUrl(ctx: ContainerContext): string {
  try {
    const mesh = JSON.parse(readFileSync(stateFiles.mesh(ctx.stateDir), 'utf8')) as Partial<MeshFile>;
    if (typeof mesh.apiUrl === 'string' && mesh.apiUrl !== '') return mesh.apiUrl.replace(/\/+$/, '');
  } catch {
    // not written yet: the fixed address below
  }
  return `https://${apiAddress(ctx.block)}:${API_PORT}`;
}

/** The container's env with the cluster's addresses mapped to local ones (see the file comment). */
export function clusterEnv(env: Record<string, string>, opts: { apiUrl: string; podAddress: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const wildcard = WILDCARD_LISTEN.exec(value);
    out[name] = wildcard ? `${opts.podAddress}:${wildcard[1]}` : value.replace(IN_CLUSTER_API, opts.apiUrl);
  }
  return out;
}

/** The container's readinessProbe against the pod's address, as a kubelet runs it; without one, started is ready. */
export function probeReadiness(container: Container, podAddress: string): ReadinessCheck {
  const probe = container.readinessProbe;
  const port = (p: number | string): number => (typeof p === 'number' ? p : container.ports?.find((x) => x.name === p)?.containerPort ?? Number(p));
  if (probe?.httpGet) {
    const path = probe.httpGet.path ?? '/';
    const url = `${probe.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://${podAddress}:${port(probe.httpGet.port)}${path.startsWith('/') ? path : `/${path}`}`;
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    const extra = Object.keys(headers).length > 0 ? { headers } : {};
    return probe.httpGet.scheme === 'HTTPS' ? { kind: 'https-unverified', url, ...extra } : { kind: 'http', url, ...extra };
  }
  if (probe?.tcpSocket) return { kind: 'tcp', host: podAddress, ports: [port(probe.tcpSocket.port)] };
  return { kind: 'started' };
}

/** The image's entrypoint runs as the image would run it; a `command` replacing it has nothing local to run. */
const clusterImageRuntime: ImageRuntime = {
  name: 'cluster-image',
  matches: (image, container) => isClusterComponentImage(image) && (container.command ?? []).length === 0,
  command(ctx) {
    const entrypoint = CLUSTER_IMAGE_ENTRYPOINTS[clusterImageRepository(ctx.container.image ?? '')!]!;
    return {
      command: process.execPath,
      args: [join(PACKAGE_ROOT, entrypoint), ...(ctx.container.args ?? [])],
      // HOSTNAME: what a container runtime sets (the pod's name), under the container's own env
      env: { ...IMAGE_ENV, HOSTNAME: ctx.pod.metadata.name, ...clusterEnv(specEnv(ctx), { apiUrl: ctx.apiUrl?.replace(/\/+$/, '') ?? embeddedApiUrl(ctx), podAddress: ctx.appAddress }) },
      cwd: PACKAGE_ROOT,
      readiness: probeReadiness(ctx.container, ctx.appAddress),
    };
  },
};

export const CLUSTER_IMAGE_RUNTIMES: readonly ImageRuntime[] = [clusterImageRuntime];
