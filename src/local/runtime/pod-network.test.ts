import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  AUTO_PREFERS, decidePodNetwork, execMounts, parsePodNetwork, podNetworkChoice, recordContainerMounts, sandboxRecordFile, withoutProxyVariables, type SandboxRecord,
} from './pod-network.js';
import { podInterceptionRules, podNatRules, serviceBackends, serviceCidr, serviceNatRules } from './sandbox-host.js';
import { outboundProtocol, outboundTcpTarget } from '../../sidecar/listeners/transparent.js';
import type { SandboxSupport } from '../sandbox/index.js';
import type { OutboundTrafficMatch } from '../../snapshot/types.js';

const root: SandboxSupport = { root: true, rootless: true, rootlessUids: 1, missingTools: [], mode: 'root' };
const none: SandboxSupport = { root: false, rootless: false, rootlessUids: 0, missingTools: [], reason: 'no userns' };
const rootlessOneUid: SandboxSupport = { root: false, rootless: true, rootlessUids: 1, missingTools: [], mode: 'rootless' };

test('--pod-network: flag, then $TESSERA_POD_NETWORK, then auto; bad values are usage errors', () => {
  assert.equal(podNetworkChoice('loopback', { TESSERA_POD_NETWORK: 'namespace' }), 'loopback');
  assert.equal(podNetworkChoice(undefined, { TESSERA_POD_NETWORK: 'namespace' }), 'namespace');
  assert.equal(podNetworkChoice(undefined, {}), 'auto');
  assert.throws(() => parsePodNetwork('bridge'), /not one of namespace, loopback, auto/);
});

test('namespace asked for where impossible fails; auto falls back to loopback with the reason', async () => {
  await assert.rejects(decidePodNetwork('namespace', async () => none), /not possible here: no userns/);
  await assert.rejects(decidePodNetwork('namespace', async () => rootlessOneUid), /subuid/);
  assert.equal((await decidePodNetwork('namespace', async () => root)).mode, 'namespace');
  const auto = await decidePodNetwork('auto', async () => none);
  assert.equal(auto.mode, 'loopback');
  assert.match(auto.reason ?? '', /no userns/);
  assert.equal((await decidePodNetwork('loopback', async () => root)).mode, 'loopback');
  assert.equal(AUTO_PREFERS, 'namespace');
  assert.equal((await decidePodNetwork('auto', async () => root)).mode, 'namespace', 'auto prefers namespace mode where it is possible');
});

test('pod nat rules: the services chain after interception, SNAT for 127/8 sources, DNAT per endpoint with kube-proxy\'s odds', () => {
  const backends = [{ clusterIP: '127.77.128.1', port: 80, protocol: 'tcp' as const, endpoints: [{ ip: '10.224.0.2', port: 8080 }, { ip: '10.224.0.3', port: 8080 }] }];
  const rules = podNatRules({ block: 77, podIP: '10.224.0.4', hasSidecar: true, backends }).split('\n');
  assert.ok(rules.indexOf(':TESSERA_SERVICES - [0:0]') > rules.indexOf('*nat'));
  assert.ok(rules.indexOf('-A OUTPUT -j TESSERA_SERVICES') > rules.indexOf('-A OUTPUT -p tcp -j PROXY_OUTPUT'), 'app traffic is redirected first');
  assert.ok(rules.includes('-A POSTROUTING -s 127.0.0.0/8 -o eth0 -j SNAT --to-source 10.224.0.4'));
  assert.ok(rules.includes('-A TESSERA_SERVICES -d 127.77.128.1/32 -p tcp --dport 80 -m statistic --mode random --probability 0.50000 -j DNAT --to-destination 10.224.0.2:8080'));
  assert.ok(rules.includes('-A TESSERA_SERVICES -d 127.77.128.1/32 -p tcp --dport 80 -j DNAT --to-destination 10.224.0.3:8080'));
  assert.ok(rules.indexOf('COMMIT') > rules.indexOf('-A OUTPUT -j TESSERA_SERVICES'));
  const bare = podNatRules({ block: 77, podIP: '10.224.0.4', hasSidecar: false, backends: [] });
  assert.ok(!bare.includes('PROXY_'), bare);
  assert.match(serviceNatRules(backends), /^\*nat\n:TESSERA_SERVICES - \[0:0\]\n-A TESSERA_SERVICES .*\nCOMMIT\n$/s);
});

test('service backends: cluster IP ports to ready endpoints of the pod network, by port name and protocol', () => {
  const objects: Record<string, unknown> = {
    'Endpoints/default/web': { kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [
      { addresses: [{ ip: '10.224.0.2' }, { ip: '127.77.0.9' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }] },
    ] },
  };
  const store = {
    list: () => [
      { kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '127.77.128.3', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] } },
      { kind: 'Service', metadata: { name: 'headless', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
    ],
    get: (k: { kind: string; namespace?: string; name: string }) => objects[`${k.kind}/${k.namespace}/${k.name}`],
  } as unknown as Parameters<typeof serviceBackends>[0];
  assert.deepEqual(serviceBackends(store, '10.224.0.0/20'), [
    { clusterIP: '127.77.128.3', port: 80, protocol: 'tcp', endpoints: [{ ip: '10.224.0.2', port: 8080 }] },
    { clusterIP: '127.77.128.3', port: 53, protocol: 'udp', endpoints: [{ ip: '10.224.0.2', port: 5353 }] },
  ]);
});

test('pod rules: the sidecar reaches the app on 127/8 unredirected, cluster IPs go to the outbound listener, before FSM\'s rules', () => {
  const rules = podInterceptionRules({ block: 77, ipv6: false, annotations: { 'flomesh.io/outbound-port-exclusion-list': '6379' } }).split('\n');
  const first = rules.findIndex((l) => l.startsWith('-A PROXY_OUTPUT'));
  assert.equal(rules[first], '-A PROXY_OUTPUT -d 127.0.0.0/8 -m owner --uid-owner 1500 -j RETURN');
  assert.equal(rules[first + 1], `-A PROXY_OUTPUT -d ${serviceCidr(77)} -p tcp -j PROXY_REDIRECT`);
  assert.equal(serviceCidr(77), '127.77.128.0/17');
  assert.ok(rules.includes('-A PROXY_OUTPUT -p tcp -m multiport --dports 6379 -j RETURN'));
  assert.ok(!podInterceptionRules({ block: 77, ipv6: true }).includes('127.0.0.0/8'));
});

test('exec env: no proxy variables, no upstreams file', () => {
  assert.deepEqual(withoutProxyVariables({ http_proxy: 'x', HTTPS_PROXY: 'y', NO_PROXY: '', TESSERA_UPSTREAMS_FILE: 'f', POD_IP: '10.0.0.2' }), { POD_IP: '10.0.0.2' });
});

test('transparent outbound: the protocol of the match whose ranges hold the address, else the port\'s first', () => {
  const matches: Record<string, OutboundTrafficMatch[]> = {
    '8080': [
      { Port: 8080, Protocol: 'tcp', DestinationIPRanges: { '127.1.128.5/32': null } as Record<string, null> },
      { Port: 8080, Protocol: 'http', DestinationIPRanges: { '127.1.128.6/32': null } as Record<string, null> },
    ],
  };
  assert.equal(outboundProtocol(matches, { address: '127.1.128.6', port: 8080 }), 'http');
  assert.equal(outboundProtocol(matches, { address: '127.1.128.5', port: 8080 }), 'tcp');
  assert.equal(outboundProtocol(matches, { address: '10.0.0.9', port: 8080 }), 'tcp');
  assert.equal(outboundProtocol(matches, { address: '10.0.0.9', port: 9999 }), undefined);
  const tcp: Record<string, OutboundTrafficMatch[]> = {
    '8301': [{ Port: 8301, Protocol: 'tcp', DestinationIPRanges: { '127.1.128.7/32': null } as Record<string, null>, TcpServiceRouteRules: { 'server.default': {} as never } }],
  };
  assert.deepEqual(outboundTcpTarget(tcp, { address: '127.1.128.7', port: 8301 }), { host: 'server.default', port: 8301 }, 'a cluster IP goes by its service name');
  assert.deepEqual(outboundTcpTarget(tcp, { address: '10.0.0.9', port: 8301 }), { host: '10.0.0.9', port: 8301 });
});

test('sandbox record: each container\'s volumes recorded for exec in that container, entries of other containers kept', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-record-'));
  try {
    // no record (loopback mode, or a pod already gone): nothing written
    recordContainerMounts(stateDir, 'legacy', 'gone', 'curl', [{ hostPath: '/x', mountPath: '/y' }]);
    assert.equal(existsSync(sandboxRecordFile(stateDir, 'legacy', 'gone')), false);

    const file = sandboxRecordFile(stateDir, 'legacy', 'client');
    mkdirSync(dirname(file), { recursive: true });
    const base: SandboxRecord = {
      name: 'legacy_client', namespace: 'legacy', ip: '10.224.0.9', netnsPath: '/run/netns/x', dir: '/d', hostsFile: '/d/hosts', resolvFile: '/d/resolv.conf',
      hostVeth: 'veth0', appUid: 1000, mounts: [],
    };
    writeFileSync(file, JSON.stringify(base));
    recordContainerMounts(stateDir, 'legacy', 'client', 'curl', [{ hostPath: '/pods/client/volumes/certs', mountPath: '/etc/certs', readOnly: true }]);
    recordContainerMounts(stateDir, 'legacy', 'client', 'helper', [{ hostPath: '/pods/client/volumes/token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    const record = JSON.parse(readFileSync(file, 'utf8')) as SandboxRecord;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(execMounts(record, 'curl'), [{ hostPath: '/pods/client/volumes/certs', mountPath: '/etc/certs', readOnly: true }]);
    assert.deepEqual(execMounts(record, 'helper'), [{ hostPath: '/pods/client/volumes/token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: false }]);
    assert.deepEqual(execMounts(record, undefined), [], 'no container: no container\'s volumes');
    assert.deepEqual(execMounts(record, 'other'), []);
    // a restart records the container's volumes anew, in place
    recordContainerMounts(stateDir, 'legacy', 'client', 'curl', []);
    assert.deepEqual(execMounts(JSON.parse(readFileSync(file, 'utf8')) as SandboxRecord, 'curl'), []);
    assert.deepEqual(readdirSync(dirname(file)), ['sandbox.json'], 'no temporary file left');
    // the runtime's fields are untouched
    const { containers: _c, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as SandboxRecord;
    assert.deepEqual(rest, base);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});
