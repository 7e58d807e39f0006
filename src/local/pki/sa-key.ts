/**
 * The cluster's ServiceAccount signing key, as kubeadm keeps it: `<state>/pki/sa.key` (PKCS#8 PEM,
 * mode 0600, in the 0700 pki folder), an EC P-256 key created once per mesh and kept across restarts,
 * so tokens issued before a restart stay valid.
 */
import { createFileOnce } from '../../lib/atomic-file.js';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function serviceAccountKeyPath(stateDir: string): string {
  return join(stateDir, 'pki', 'sa.key');
}

/** Loads `<state>/pki/sa.key`, creating it (0600) when missing. */
export function ensureServiceAccountKey(stateDir: string): KeyObject {
  const file = serviceAccountKeyPath(stateDir);
  const dir = join(stateDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return createPrivateKey(readFileSync(file, 'utf8'));
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // Two daemons racing on one state directory must end with one key: the first one written wins.
  if (!createFileOnce(file, pem, 0o600)) return createPrivateKey(readFileSync(file, 'utf8'));
  return privateKey;
}
