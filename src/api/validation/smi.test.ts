/** Tests for the SMI validators: seed 003's examples, aliases, kubectl names, FSM's webhook rules and exact messages. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifests } from '../../manifest/index.js';
import { seedExampleYaml } from '../../snapshot/testdata/smi-seed.js';
import { resolveKindName } from '../kinds.js';
import type { TrafficTargetSpec } from '../smi-types.js';
import type { Resource } from '../types.js';
import { validateDocuments, validateResource } from './index.js';
import { refusalLines } from './test-support.js';

const ctx = { source: '-', index: 1 };
const ACCESS = 'access.smi-spec.io/v1alpha3';
const SPECS = 'specs.smi-spec.io/v1alpha4';

const problems = (obj: unknown, namespace?: string): string[] => refusalLines(obj, namespace ? { ...ctx, namespace } : ctx);

const target = (spec: Record<string, unknown>, namespace?: string) => ({
  apiVersion: ACCESS,
  kind: 'TrafficTarget',
  metadata: { name: 'tt', ...(namespace ? { namespace } : {}) },
  spec,
});
const sa = (name: string, namespace?: string) => ({ kind: 'ServiceAccount', name, ...(namespace ? { namespace } : {}) });
const goodSpec = () => ({ destination: sa('api', 'default'), sources: [sa('web', 'default')], rules: [{ kind: 'TCPRoute', name: 'p' }] });
const group = (matches: unknown, extra: Record<string, unknown> = {}) => ({ apiVersion: SPECS, kind: 'HTTPRouteGroup', metadata: { name: 'g' }, spec: { matches }, ...extra });

describe('seed 003 examples', () => {
  it('the L7 example validates with apiVersions added', () => {
    const out = validateDocuments(parseManifests(seedExampleYaml('L7'), 'L7'));
    assert.deepEqual(out.map((r) => `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`), [
      'TCPRoute default/api-service-port',
      'HTTPRouteGroup default/api-service-routes',
      'TrafficTarget default/api-service-metrics',
      'TrafficTarget default/api-service-api',
    ]);
  });

  it('the L4 example validates; its TrafficTarget without a namespace lands in the destination’s', () => {
    const out = validateDocuments(parseManifests(seedExampleYaml('L4'), 'L4'));
    const tt = out.find((r) => r.kind === 'TrafficTarget')!;
    assert.equal(tt.metadata.namespace, 'default');
    assert.deepEqual(out.find((r) => r.kind === 'UDPRoute')!.spec, { matches: { ports: [8301, 8302] } });
  });
});

describe('kinds', () => {
  it('kubectl names and short names resolve', () => {
    for (const [name, kind] of [
      ['traffictargets', 'TrafficTarget'], ['traffictarget', 'TrafficTarget'], ['tt', 'TrafficTarget'],
      ['traffictargets.access.smi-spec.io', 'TrafficTarget'], ['httproutegroups', 'HTTPRouteGroup'], ['htr', 'HTTPRouteGroup'],
      ['tcproutes', 'TCPRoute'], ['tcproute', 'TCPRoute'], ['udproutes', 'UDPRoute'], ['udproute', 'UDPRoute'],
    ]) assert.equal(resolveKindName(name!)?.kind, kind, name);
  });

  it('older apiVersions are accepted and stored as the current one', () => {
    assert.equal(validateResource({ ...target(goodSpec()), apiVersion: 'access.smi-spec.io/v1alpha2' }, ctx).apiVersion, ACCESS);
    const tcp = { apiVersion: 'specs.smi-spec.io/v1alpha3', kind: 'TCPRoute', metadata: { name: 'p' }, spec: { matches: { ports: [80] } } };
    assert.equal(validateResource(tcp, ctx).apiVersion, SPECS);
  });
});

describe('TrafficTarget', () => {
  it('must live in its destination’s namespace (FSM webhook)', () => {
    assert.deepEqual(problems(target(goodSpec(), 'other')), [
      'TrafficTarget other/tt: spec.destination.namespace: "default" must equal the TrafficTarget\'s own namespace "other"',
    ]);
  });

  it('a destination without a namespace gets the TrafficTarget’s', () => {
    const spec = { ...goodSpec(), destination: sa('api') };
    const out = validateResource(target(spec), { ...ctx, namespace: 'shop' }) as Resource<TrafficTargetSpec>;
    assert.equal(out.spec!.destination.namespace, 'shop');
  });

  it('subjects are ServiceAccounts with a name; sources need a namespace', () => {
    const spec = { destination: { kind: 'Group', name: 'api' }, sources: [sa('web'), { kind: 'ServiceAccount', namespace: 'default' }], rules: goodSpec().rules };
    assert.deepEqual(problems(target(spec)), [
      'TrafficTarget default/tt: spec.destination.kind: "Group" is not one of ServiceAccount',
      'TrafficTarget default/tt: spec.sources[0].namespace: required field is missing',
      'TrafficTarget default/tt: spec.sources[1].name: required field is missing',
    ]);
  });

  it('needs at least one source and one rule; rule kinds are the three route kinds', () => {
    assert.deepEqual(problems(target({ destination: sa('api'), sources: [], rules: [{ kind: 'HTTPRoute', name: 'r' }, { kind: 'TCPRoute' }] })), [
      'TrafficTarget default/tt: spec.sources: must not be empty',
      'TrafficTarget default/tt: spec.rules[0].kind: "HTTPRoute" is not one of HTTPRouteGroup, TCPRoute, UDPRoute',
      'TrafficTarget default/tt: spec.rules[1].name: required field is missing',
    ]);
  });

  it('refuses v1alpha2’s destination.port and matches on a TCPRoute rule, saying why', () => {
    const spec = { ...goodSpec(), destination: { ...sa('api', 'default'), port: '9091' }, rules: [{ kind: 'TCPRoute', name: 'p', matches: ['x'] }] };
    assert.deepEqual(problems(target(spec)), [
      'TrafficTarget default/tt: spec.destination.port: was removed in access.smi-spec.io/v1alpha3; list the ports in a TCPRoute or UDPRoute rule instead',
      'TrafficTarget default/tt: spec.rules[0].matches: only HTTPRouteGroup rules pick matches; a TCPRoute has none',
    ]);
  });
});

describe('HTTPRouteGroup', () => {
  it('accepts the full shape; missing pathRegex and methods are left to mean `.*` and `*`', () => {
    const out = validateResource(group([{ name: 'm', pathRegex: '/api/v[0-9]+', methods: ['GET', '*'], headers: { 'X-Canary': 'tr(ue|y)' } }, { name: 'all' }]), ctx);
    assert.deepEqual((out.spec as { matches: unknown[] }).matches[1], { name: 'all' });
  });

  it('match names are required and unique; methods from the enum; pathRegex and header values compile; header names are tokens', () => {
    assert.deepEqual(problems(group([
      { name: 'a', pathRegex: '/api(' },
      { name: 'a', methods: ['get'] },
      { pathRegex: '/x', headers: { 'bad header': 'x', ok: '[' } },
    ])), [
      'HTTPRouteGroup default/g: spec.matches[0].pathRegex: "/api(" is not a valid regular expression: Unterminated group',
      'HTTPRouteGroup default/g: spec.matches[1].methods[0]: "get" is not one of *, GET, HEAD, PUT, POST, DELETE, CONNECT, OPTIONS, TRACE, PATCH',
      'HTTPRouteGroup default/g: spec.matches[2].name: required field is missing',
      'HTTPRouteGroup default/g: spec.matches[2].headers.ok: "[" is not a valid regular expression: Unterminated character class',
      'HTTPRouteGroup default/g: spec.matches[2].headers[bad header]: "bad header" is not a valid header name',
    ]);
    assert.deepEqual(problems(group([{ name: 'a' }, { name: 'a' }])), ['HTTPRouteGroup default/g: spec.matches[1].name: duplicate name "a"']);
  });

  it('a regex that only compiles unanchored is refused', () => {
    assert.match(problems(group([{ name: 'a', pathRegex: 'a)(b' }]))[0]!, /pathRegex: "a\)\(b" is not a valid regular expression/);
  });

  it('refuses `matches` outside spec (the smi-conformance manifests), and a missing spec', () => {
    const misplaced = { apiVersion: SPECS, kind: 'HTTPRouteGroup', metadata: { name: 'g' }, matches: [{ name: 'm', pathRegex: '/metrics' }] };
    assert.deepEqual(problems(misplaced), ['HTTPRouteGroup default/g: matches: belongs under spec (spec.matches)']);
    assert.deepEqual(problems({ apiVersion: SPECS, kind: 'HTTPRouteGroup', metadata: { name: 'g' } }), ['HTTPRouteGroup default/g: spec: required field is missing']);
  });
});

describe('TCPRoute and UDPRoute', () => {
  const route = (kind: string, spec: unknown) => ({ apiVersion: SPECS, kind, metadata: { name: 'r' }, spec });

  it('ports are 1–65535; an empty list or no spec is accepted (every port)', () => {
    assert.deepEqual(problems(route('TCPRoute', { matches: { name: 'm', ports: [0, 80, 70000] } })), [
      'TCPRoute default/r: spec.matches.ports[0]: 0 is out of range 1-65535',
      'TCPRoute default/r: spec.matches.ports[2]: 70000 is out of range 1-65535',
    ]);
    assert.deepEqual(problems(route('UDPRoute', { matches: { ports: ['53'] } })), ['UDPRoute default/r: spec.matches.ports[0]: expected integer, got string "53"']);
    assert.ok(validateResource(route('TCPRoute', { matches: { ports: [] } }), ctx));
    assert.ok(validateResource({ apiVersion: SPECS, kind: 'UDPRoute', metadata: { name: 'r' } }, ctx));
  });

  it('unknown fields are reported', () => {
    assert.deepEqual(problems(route('TCPRoute', { matches: { port: [80] } })), ['TCPRoute default/r: spec.matches.port: unknown field "port"']);
  });
});
