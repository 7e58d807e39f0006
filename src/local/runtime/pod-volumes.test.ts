/** Pod volumes in local mode: files (0600) under the pod directory, TESSERA_MOUNT_<NAME>, mountPath rewritten in command, args and env; secret, configMap, emptyDir, projected. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Resource } from '../../api/types.js';
import { isMeshError } from '../../lib/errors.js';
import { mountPodVolumes, rewritePaths, withMounts, type VolumeSources } from './pod-volumes.js';

const secret: Resource = {
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'curl-mtls', namespace: 'legacy' },
  data: { 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') },
} as Resource;

test('a mounted Secret is written as 0600 files and the command points at them', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-vol-'));
  try {
    const container = { name: 'client', image: 'curlimages/curl', volumeMounts: [{ name: 'certs', mountPath: '/etc/certs/' }] };
    const spec = { containers: [container], volumes: [{ name: 'certs', secret: { secretName: 'curl-mtls' } }] };
    const mounts = mountPodVolumes({ stateDir, namespace: 'legacy', pod: 'client-1', spec, container }, { get: (kind, ns, name) => (kind === 'Secret' && ns === 'legacy' && name === 'curl-mtls' ? secret : undefined) });
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
    const none: VolumeSources = { get: () => undefined };
    assert.throws(() => mountPodVolumes({ stateDir, namespace: 'n', pod: 'p', spec: spec(false), container }, none), (e) => isMeshError(e) && /secret "gone" not found/.test((e as Error).message));
    assert.equal(mountPodVolumes({ stateDir, namespace: 'n', pod: 'p', spec: spec(true), container }, none).length, 1);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('the longest mountPath wins', () => {
  const mounts = [{ volume: 'a', mountPath: '/etc/certs', dir: '/A' }, { volume: 'b', mountPath: '/etc/certs/client', dir: '/B' }];
  assert.equal(rewritePaths('/etc/certs/client/tls.crt /etc/certs/ca.crt', mounts), '/B/tls.crt /A/ca.crt');
});

test('configMap, emptyDir and projected volumes (configMap, secret, downwardAPI, a ServiceAccount token) as a kubelet writes them', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-vol-'));
  try {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'n' }, data: { 'app.yaml': 'mode: demo\n' }, binaryData: { 'logo.bin': Buffer.from([1, 2]).toString('base64') } } as unknown as Resource;
    const tokens: [string, string | undefined, number][] = [];
    const sources: VolumeSources = {
      get: (kind, ns, name) => (ns !== 'n' ? undefined : kind === 'ConfigMap' && name === 'app-config' ? configMap : kind === 'Secret' && name === 'curl-mtls' ? secret : undefined),
      podField: (f) => (f === 'metadata.name' ? 'p' : f === "metadata.labels['app']" ? 'web' : undefined),
      writeToken: (file, audience, seconds) => {
        tokens.push([file, audience, seconds]);
        writeFileSync(file, 'TOKEN');
      },
    };
    const container = { name: 'c', image: 'i', volumeMounts: [{ name: 'config', mountPath: '/etc/app' }, { name: 'scratch', mountPath: '/scratch' }, { name: 'bundle', mountPath: '/var/run/bundle' }] };
    const spec = {
      containers: [container],
      volumes: [
        { name: 'config', configMap: { name: 'app-config', items: [{ key: 'app.yaml', path: 'conf/app.yaml' }] } },
        { name: 'scratch', emptyDir: {} },
        { name: 'bundle', projected: { sources: [
          { configMap: { name: 'app-config' } },
          { secret: { name: 'curl-mtls', items: [{ key: 'tls.crt', path: 'tls/tls.crt' }] } },
          { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }, { path: 'app', fieldRef: { fieldPath: "metadata.labels['app']" } }] } },
          { serviceAccountToken: { audience: 'vault', expirationSeconds: 7200, path: 'token' } },
        ] } },
      ],
    };
    const mounts = mountPodVolumes({ stateDir, namespace: 'n', pod: 'p', spec, container }, sources);
    const dir = (v: string): string => join(stateDir, 'pods', 'n', 'p', 'volumes', v);
    assert.deepEqual(mounts.map((m) => [m.volume, m.mountPath, m.dir]), [['config', '/etc/app', dir('config')], ['scratch', '/scratch', dir('scratch')], ['bundle', '/var/run/bundle', dir('bundle')]]);
    assert.equal(readFileSync(join(dir('config'), 'conf/app.yaml'), 'utf8'), 'mode: demo\n');
    assert.equal(statSync(dir('scratch')).mode & 0o7777, 0o1777, 'an emptyDir every uid of the pod may write');
    assert.deepEqual(mounts.map((m) => m.readOnly), [undefined, false, undefined], 'only the emptyDir is mounted writable');
    assert.equal(readFileSync(join(dir('bundle'), 'app.yaml'), 'utf8'), 'mode: demo\n');
    assert.deepEqual([...readFileSync(join(dir('bundle'), 'logo.bin'))], [1, 2]);
    assert.equal(readFileSync(join(dir('bundle'), 'tls/tls.crt'), 'utf8'), 'CERT');
    assert.equal(readFileSync(join(dir('bundle'), 'name'), 'utf8'), 'p');
    assert.equal(readFileSync(join(dir('bundle'), 'app'), 'utf8'), 'web');
    assert.deepEqual(tokens, [[join(dir('bundle'), 'token'), 'vault', 7200]]);
    // what a kubelet refuses: a key that is not there, a path out of the volume, a field it cannot give
    const refuse = (volume: unknown, why: RegExp): void => {
      const c = { name: 'c', image: 'i', volumeMounts: [{ name: 'v', mountPath: '/v' }] };
      assert.throws(() => mountPodVolumes({ stateDir, namespace: 'n', pod: 'p', spec: { containers: [c], volumes: [{ name: 'v', ...(volume as object) }] }, container: c }, sources),
        (e) => isMeshError(e) && why.test((e as Error).message), why.source);
    };
    refuse({ configMap: { name: 'app-config', items: [{ key: 'missing', path: 'm' }] } }, /has no key for "m"/);
    refuse({ configMap: { name: 'app-config', items: [{ key: 'app.yaml', path: '../escape' }] } }, /leaves the volume/);
    refuse({ configMap: { name: 'other' } }, /configmap "other" not found/);
    refuse({ projected: { sources: [{ downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath: 'spec.nodeName' } }] } }] } }, /unsupported field/);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});
