/** `connectMesh`: the API client of the local mesh in a state directory, with the admin credentials `up` wrote. */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { MeshError } from '../../lib/errors.js';
import type { MeshApi } from '../api-contract.js';
import { HttpsTransport } from '../https-transport.js';
import { stateFiles } from '../layout.js';
import { readMeshFile } from '../mesh-file.js';
import { KubeMeshApi } from './kube-mesh-api.js';

const HEALTH_TIMEOUT_MS = 2_000;

interface KubeconfigDoc {
  clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
  users?: { user?: { 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
}

function fromB64(s: string | undefined): string | undefined {
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
}

/**
 * The mesh's API client. The server is trusted only through the cluster CA of this state directory,
 * so an address taken over by another process (or another mesh) is refused before any credential
 * is sent.
 */
export async function connectMesh(stateDir: string): Promise<MeshApi> {
  const dir = resolve(stateDir);
  const notRunning = (why?: string): MeshError =>
    new MeshError('MESH_ERR_MESH_NOT_RUNNING', `no mesh is running in ${stateDir}: run \`tessera up\` first${why ? ` (${why})` : ''}`);
  const mesh = readMeshFile(dir);
  if (!mesh || !mesh.pid) throw notRunning();
  const c = pkiCredentials(dir, mesh.apiUrl) ?? (await kubeconfigCredentials(stateFiles.kubeconfig(dir), notRunning));
  const transport = new HttpsTransport(c.ca, { cert: c.cert, key: c.key });
  try {
    const res = await transport.fetch(`${c.server}/readyz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw notRunning(`its API at ${c.server} does not answer as this mesh (${cause})`);
  }
  return new KubeMeshApi({ baseUrl: c.server, transport, local: { meshName: mesh.meshName, stateDir: realpathOr(dir), block: mesh.block, pid: mesh.pid } });
}

interface Credentials {
  server: string;
  ca: string;
  cert: string | undefined;
  key: string | undefined;
}

/**
 * The admin credentials as `up` keeps them in pki/ beside the API address in mesh.json: the same
 * values its kubeconfig holds, read without a YAML parser (loading one is a third of a command's start).
 */
function pkiCredentials(dir: string, server: string | undefined): Credentials | undefined {
  if (!server) return undefined;
  try {
    const read = (f: string): string => readFileSync(f, 'utf8');
    return { server, ca: read(stateFiles.apiCa(dir)), cert: read(stateFiles.servingCert(dir, 'admin')), key: read(stateFiles.servingKey(dir, 'admin')) };
  } catch {
    return undefined;
  }
}

/** The kubeconfig `up` wrote, for a state directory without pki/ files. */
async function kubeconfigCredentials(file: string, notRunning: (why?: string) => MeshError): Promise<Credentials> {
  if (!existsSync(file)) throw notRunning(`${file} is missing`);
  let doc: KubeconfigDoc;
  try {
    const { parse } = await import('yaml');
    doc = parse(readFileSync(file, 'utf8')) as KubeconfigDoc;
  } catch (e) {
    throw notRunning(`${file} cannot be read: ${(e as Error).message}`);
  }
  const cluster = doc.clusters?.[0]?.cluster;
  const user = doc.users?.[0]?.user;
  const ca = fromB64(cluster?.['certificate-authority-data']);
  if (!ca || !cluster?.server) throw notRunning(`${file} names no cluster CA`);
  return { server: cluster.server, ca, cert: fromB64(user?.['client-certificate-data']), key: fromB64(user?.['client-key-data']) };
}

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
