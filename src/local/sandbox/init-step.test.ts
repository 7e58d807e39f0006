import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshError } from '../../lib/errors.js';
import { initContainer, initRules, INIT_CONTAINER_NAME, parseInitScript } from './init-step.js';

describe('the injected init step', () => {
  const annotations = { 'flomesh.io/outbound-port-exclusion-list': '6379', 'flomesh.io/outbound-ip-range-exclusion-list': '10.9.0.0/16,fd00::/8' };

  test('is FSM\'s fsm-init: /bin/sh -c iptables-restore --noflush, NET_ADMIN, uid 0', () => {
    const c = initContainer('tessera/sidecar:1.0', annotations);
    assert.equal(c.name, INIT_CONTAINER_NAME);
    assert.equal(c.image, 'tessera/sidecar:1.0');
    assert.deepEqual(c.command, ['/bin/sh']);
    assert.equal(c.args?.[0], '-c');
    assert.match(c.args![1]!, /^iptables-restore --noflush <<'EOF'\n# Tessera sidecar interception, IPv4/);
    assert.match(c.args![1]!, /\nif \[ -e \/proc\/net\/if_inet6 \]; then ip6tables-restore --noflush <<'EOF'\n/);
    assert.deepEqual(c.securityContext, { capabilities: { add: ['NET_ADMIN'] }, privileged: false, runAsNonRoot: false, runAsUser: 0 });
  });

  test('round-trips: the node loads exactly the rules the injector wrote, annotations included', () => {
    const c = initContainer('img', annotations);
    const parsed = parseInitScript(c, 'ns/p');
    assert.deepEqual(parsed, initRules(annotations));
    assert.match(parsed.ipv4, /-A PROXY_OUTPUT -d 10\.9\.0\.0\/16 -j RETURN/);
    assert.match(parsed.ipv4, /--dports 6379 -j RETURN/);
    assert.match(parsed.ipv6, /-A PROXY_OUTPUT -d fd00::\/8 -j RETURN/);
    assert.doesNotMatch(parsed.ipv4, /fd00/);
  });

  test('a bad annotation fails the injection with the annotation named', () => {
    assert.throws(() => initContainer('img', { 'flomesh.io/inbound-port-exclusion-list': '80,http' }),
      (e: unknown) => e instanceof MeshError && /inbound-port-exclusion-list.*'http' is not a port/.test(e.message));
  });

  test('anything but the injected text is refused, so the step is never a shell on the node', () => {
    const good = initContainer('img', undefined);
    const script = good.args![1]!;
    const cases: [string, { command?: string[]; args?: string[] }, RegExp][] = [
      ['another command', { command: ['/bin/bash'], args: good.args! }, /runs only the injected iptables step/],
      ['no command', { args: good.args! }, /runs only the injected iptables step/],
      ['a shell line before', { command: ['/bin/sh'], args: ['-c', `id\n${script}`] }, /line 1: expected/],
      ['a shell line after', { command: ['/bin/sh'], args: ['-c', `${script}rm -rf /\n`] }, /text after the init step/],
      ['a command inside the document', { command: ['/bin/sh'], args: ['-c', script.replace('COMMIT', '$(id)\nCOMMIT')] }, /not an iptables-restore line/],
      ['the filter table', { command: ['/bin/sh'], args: ['-c', script.replace('*nat', '*filter')] }, /not an iptables-restore line|not one nat table/],
      ['no terminator', { command: ['/bin/sh'], args: ['-c', script.split('EOF\n')[0]!] }, /without its EOF line/],
    ];
    for (const [what, container, message] of cases) {
      assert.throws(() => parseInitScript(container, 'ns/p'), (e: unknown) => e instanceof MeshError && message.test(e.message) && /pod ns\/p/.test(e.message), what);
    }
  });
});
