import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decidePodNetwork, parsePodNetwork, podNetworkChoice, withoutProxyVariables } from './pod-network.js';
import { podInterceptionRules, serviceCidr } from './sandbox-host.js';
import { outboundProtocol } from '../../sidecar/listeners/transparent.js';
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
});
