/** Secret volumes in local mode: files (0600) under the pod directory, TESSERA_MOUNT_<NAME>, mountPath rewritten in command, args and env. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Resource } from '../../api/types.js';
import { isMeshError } from '../../lib/errors.js';
import { mountSecretVolumes, rewritePaths, withMounts } from './secret-volumes.js';

const secret: Resource = {
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'curl-mtls', namespace: 'legacy' },
  data: { 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') },
} as Resource;

test('a mounted Secret is written as 0600 files and the command points at them', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-vol-'));
  try {
    const container = { name: 'client', image: 'curlimages/curl', volumeMounts: [{ name: 'certs', mountPath: '/etc/certs/' }] };
    const spec = { containers: [container], volumes: [{ name: 'certs', secret: { secretName: 'curl-mtls' } }] };
    const mounts = mountSecretVolumes({ stateDir, namespace: 'legacy', pod: 'client-1', spec, container }, (ns, name) => (ns === 'legacy' && name === 'curl-mtls' ? secret : undefined));
    const dir = join(stateDir, 'pods', 'legacy', 'client-1', 'volumes', 'certs');
    assert.deepEqual(mounts, [{ volume: 'certs', mountPath: '/etc/certs', dir }]);
    assert.equal(readFileSync(join(dir, 'tls.key'), 'utf8'), 'KEY');
    assert.equal(statSync(join(dir, 'tls.key')).mode & 0o777, 0o600);
    const cmd = withMounts({ command: 'curl', args: ['--cert', '/etc/certs/tls.crt', '--key=/etc/certs/tls.key', '/etc/certsX/a', '/x/etc/certs'], env: { CERT_DIR: '/etc/certs' }, readiness: { kind: 'started' } }, mounts);
    assert.deepEqual(cmd.args, ['--cert', `${dir}/tls.crt`, `--key=${dir}/tls.key`, '/etc/certsX/a', '/x/etc/certs']);
    assert.deepEqual(cmd.env, { CERT_DIR: dir, TESSERA_MOUNT_CERTS: dir });
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a missing Secret keeps the container waiting (MESH_ERR_NOT_FOUND); an optional one mounts empty', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-vol-'));
  try {
    const container = { name: 'c', image: 'i', volumeMounts: [{ name: 'v', mountPath: '/v' }] };
    const spec = (optional: boolean) => ({ containers: [container], volumes: [{ name: 'v', secret: { secretName: 'gone', optional } }] });
    assert.throws(() => mountSecretVolumes({ stateDir, namespace: 'n', pod: 'p', spec: spec(false), container }, () => undefined), (e) => isMeshError(e) && /secret "gone" not found/.test((e as Error).message));
    assert.equal(mountSecretVolumes({ stateDir, namespace: 'n', pod: 'p', spec: spec(true), container }, () => undefined).length, 1);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('the longest mountPath wins', () => {
  const mounts = [{ volume: 'a', mountPath: '/etc/certs', dir: '/A' }, { volume: 'b', mountPath: '/etc/certs/client', dir: '/B' }];
  assert.equal(rewritePaths('/etc/certs/client/tls.crt /etc/certs/ca.crt', mounts), '/B/tls.crt /A/ca.crt');
});
