/**
 * The cluster's ServiceAccount signing key, as kubeadm keeps it: `<state>/pki/sa.key` (PKCS#8 PEM,
 * mode 0600, in the 0700 pki folder), an EC P-256 key created once per mesh and kept across restarts,
 * so tokens issued before a restart stay valid.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
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
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return privateKey;
}
