import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { isMeshError } from '../../lib/errors.js';
import { annotationsToInterception, interceptionRules } from './interception.js';

const HEAD = `*nat
:PROXY_INBOUND - [0:0]
:PROXY_IN_REDIRECT - [0:0]
:PROXY_OUTPUT - [0:0]
:PROXY_REDIRECT - [0:0]
-A PREROUTING -p tcp -j PROXY_INBOUND
-A OUTPUT -p tcp -j PROXY_OUTPUT
-A PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15003
-A PROXY_INBOUND -p tcp -m multiport --dports 15000,15010,15901,15902,15903,15904 -j RETURN
`;

test('defaults: FSM chains, sidecar uid excluded, loopback handling, admin/health ports not redirected', () => {
  assert.equal(
    interceptionRules({ proxyUid: 1500, ipv6: false }),
    `# Tessera sidecar interception, IPv4 (iptables-restore); FSM chain layout
${HEAD}-A PROXY_INBOUND -p tcp -j PROXY_IN_REDIRECT
-A PROXY_REDIRECT -p tcp --dport 15000 -j ACCEPT
-A PROXY_REDIRECT -p tcp -j REDIRECT --to-ports 15001
-A PROXY_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1500 -j PROXY_IN_REDIRECT
-A PROXY_OUTPUT -o lo -m owner ! --uid-owner 1500 -j RETURN
-A PROXY_OUTPUT -m owner --uid-owner 1500 -j RETURN
-A PROXY_OUTPUT -d 127.0.0.1/32 -j RETURN
-A PROXY_OUTPUT -j PROXY_REDIRECT
COMMIT
`,
  );
});

const FULL = {
  proxyUid: 1337,
  excludeInboundPorts: [8081, 9090, 8081],
  excludeOutboundPorts: [5432],
  excludeOutboundCIDRs: ['10.0.0.0/8', 'fd00::/8'],
  includeOutboundCIDRs: ['10.96.0.0/12', '2001:db8::/32'],
  includeOutboundPorts: [80, 443],
};

test('IPv4 with every list: exclusions first, inclusion of CIDR x port, the rest returned', () => {
  assert.equal(
    interceptionRules({ ...FULL, ipv6: false }),
    `# Tessera sidecar interception, IPv4 (iptables-restore); FSM chain layout
${HEAD}-A PROXY_INBOUND -p tcp -m multiport --dports 8081,9090 -j RETURN
-A PROXY_INBOUND -p tcp -j PROXY_IN_REDIRECT
-A PROXY_REDIRECT -p tcp --dport 15000 -j ACCEPT
-A PROXY_REDIRECT -p tcp -j REDIRECT --to-ports 15001
-A PROXY_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j PROXY_IN_REDIRECT
-A PROXY_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN
-A PROXY_OUTPUT -m owner --uid-owner 1337 -j RETURN
-A PROXY_OUTPUT -d 127.0.0.1/32 -j RETURN
-A PROXY_OUTPUT -d 10.0.0.0/8 -j RETURN
-A PROXY_OUTPUT -p tcp -m multiport --dports 5432 -j RETURN
-A PROXY_OUTPUT -d 10.96.0.0/12 -p tcp -m multiport --dports 80,443 -j PROXY_REDIRECT
-A PROXY_OUTPUT -j RETURN
COMMIT
`,
  );
});

test('IPv6 takes only IPv6 ranges and ::1; an IPv4-only inclusion list redirects no IPv6 traffic', () => {
  const v6 = interceptionRules({ ...FULL, ipv6: true });
  assert.match(v6, /^-A PROXY_OUTPUT -o lo ! -d ::1\/128 -m owner --uid-owner 1337 -j PROXY_IN_REDIRECT$/m);
  assert.match(v6, /^-A PROXY_OUTPUT -d fd00::\/8 -j RETURN$/m);
  assert.match(v6, /^-A PROXY_OUTPUT -d 2001:db8::\/32 -p tcp -m multiport --dports 80,443 -j PROXY_REDIRECT$/m);
  assert.doesNotMatch(v6, /10\.0\.0\.0|127\.0\.0\.1/);
  const v4only = interceptionRules({ proxyUid: 1, includeOutboundCIDRs: ['10.96.0.0/12'], ipv6: true });
  assert.ok(v4only.endsWith('-A PROXY_OUTPUT -d ::1/128 -j RETURN\n-A PROXY_OUTPUT -j RETURN\nCOMMIT\n'), v4only);
});

test('port inclusion alone; more than 15 ports split over multiport rules; custom listener ports', () => {
  const ports = Array.from({ length: 17 }, (_, i) => 8000 + i);
  const r = interceptionRules({ proxyUid: 7, includeOutboundPorts: ports, inboundPort: 16003, outboundPort: 16001, adminPort: 16000, ipv6: false });
  assert.match(r, /^-A PROXY_OUTPUT -p tcp -m multiport --dports 8000,8001,8002,8003,8004,8005,8006,8007,8008,8009,8010,8011,8012,8013,8014 -j PROXY_REDIRECT$/m);
  assert.match(r, /^-A PROXY_OUTPUT -p tcp -m multiport --dports 8015,8016 -j PROXY_REDIRECT\n-A PROXY_OUTPUT -j RETURN\nCOMMIT$/m);
  assert.match(r, /--to-ports 16003$/m);
  assert.match(r, /--to-ports 16001$/m);
  assert.match(r, /--dport 16000 -j ACCEPT$/m);
  assert.match(r, /--dports 16000,15010,15901/);
});

test('bad options fail with MESH_ERR_MANIFEST_INVALID naming the field', () => {
  for (const [opts, field] of [
    [{ proxyUid: -1 }, 'proxyUid'],
    [{ proxyUid: 1, excludeInboundPorts: [0] }, 'excludeInboundPorts'],
    [{ proxyUid: 1, excludeOutboundCIDRs: ['10.0.0.1'] }, 'excludeOutboundCIDRs'],
  ] as const) {
    assert.throws(
      () => interceptionRules({ ...opts, ipv6: false }),
      (e: unknown) => isMeshError(e) && e.code === 'MESH_ERR_MANIFEST_INVALID' && e.message.startsWith(field),
    );
  }
});

test('annotations: FSM names parsed, blanks ignored, absent ones left out', () => {
  assert.deepEqual(
    annotationsToInterception({
      'flomesh.io/inbound-port-exclusion-list': '8081, 9090',
      'flomesh.io/outbound-port-exclusion-list': '5432,',
      'flomesh.io/outbound-ip-range-exclusion-list': '10.0.0.0/8, fd00::/8',
      'flomesh.io/outbound-ip-range-inclusion-list': '10.96.0.0/12',
      'flomesh.io/outbound-port-inclusion-list': '80,443',
      'other.io/x': 'y',
    }),
    {
      excludeInboundPorts: [8081, 9090],
      excludeOutboundPorts: [5432],
      includeOutboundPorts: [80, 443],
      excludeOutboundCIDRs: ['10.0.0.0/8', 'fd00::/8'],
      includeOutboundCIDRs: ['10.96.0.0/12'],
    },
  );
  assert.deepEqual(annotationsToInterception(undefined), {});
  assert.deepEqual(annotationsToInterception({ 'flomesh.io/outbound-port-exclusion-list': '' }), { excludeOutboundPorts: [] });
});

test('annotation errors name the annotation and the bad item', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'flomesh.io/outbound-port-exclusion-list': '80,http' }, /annotation flomesh\.io\/outbound-port-exclusion-list: 'http' is not a port/],
    [{ 'flomesh.io/inbound-port-exclusion-list': '70000' }, /annotation flomesh\.io\/inbound-port-exclusion-list: '70000' is not a port/],
    [{ 'flomesh.io/outbound-ip-range-exclusion-list': '10.0.0.1' }, /outbound-ip-range-exclusion-list: '10\.0\.0\.1' is not an IP range in CIDR form \(a single address needs a prefix: 10\.0\.0\.1\/32\)/],
    [{ 'flomesh.io/outbound-ip-range-inclusion-list': '10.0.0.0/33' }, /outbound-ip-range-inclusion-list: '10\.0\.0\.0\/33'/],
    [{ 'flomesh.io/outbound-port-inclusion-list': '-1' }, /outbound-port-inclusion-list: '-1' is not a port/],
  ];
  for (const [annotations, message] of cases) {
    assert.throws(
      () => annotationsToInterception(annotations),
      (e: unknown) =>
        isMeshError(e) &&
        e.code === 'MESH_ERR_MANIFEST_INVALID' &&
        message.test(e.message) &&
        e.problems[0]?.field === `metadata.annotations[${Object.keys(annotations)[0]}]`,
    );
  }
});

test('iptables-restore --test accepts both documents', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for a throwaway network namespace');
  for (const ipv6 of [false, true]) {
    const doc = interceptionRules({ ...FULL, ipv6 });
    const r = spawnSync('unshare', ['--net', ipv6 ? 'ip6tables-restore' : 'iptables-restore', '--test'], { input: doc, encoding: 'utf8' });
    if (r.error) return t.skip(`unshare/iptables-restore not runnable: ${r.error.message}`);
    assert.equal(r.status, 0, r.stderr);
  }
});
