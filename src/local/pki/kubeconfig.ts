/** The kubeconfig `tessera up` writes: the cluster (server and CA), the admin user, context `tessera-<mesh>`. */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ADMIN_USER, type ClusterPki } from './cluster-pki.js';

export function kubeconfigPath(stateDir: string): string {
  return join(stateDir, 'kubeconfig');
}

export function contextName(meshName: string): string {
  return `tessera-${meshName}`;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export function kubeconfigYaml(meshName: string, server: string, pki: ClusterPki): string {
  const name = contextName(meshName);
  const user = `${ADMIN_USER}@${name}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': b64(pki.ca.cert) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(pki.admin.cert), 'client-key-data': b64(pki.admin.key) } }],
    contexts: [{ name, context: { cluster: name, user } }],
    'current-context': name,
    preferences: {},
  });
}

/** Writes `<state>/kubeconfig` (mode 0600: it holds the admin key) and returns its path. */
export function writeKubeconfig(stateDir: string, meshName: string, server: string, pki: ClusterPki): string {
  const file = kubeconfigPath(stateDir);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, kubeconfigYaml(meshName, server, pki), { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}
