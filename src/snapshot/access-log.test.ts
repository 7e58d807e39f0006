/** Compiler tests for the AccessLog section: which Telemetry decides each side of a pod (workload, namespace, root) and its compiled rule. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot } from './index.js';
import type { ProxySnapshot } from './index.js';
import { input, meshedNamespace, namespace, pod } from './testdata/builders.js';

const telemetry = (ns: string, name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name, namespace: ns }, spec });

function accessLog(extra: Resource[], name = 'todos-1', ns = 'default'): ProxySnapshot['AccessLog'] {
  const resources = [
    namespace('fsm-system'),
    meshedNamespace('default'),
    meshedNamespace('other'),
    pod('default', 'todos-1', { labels: { app: 'todos' }, serviceAccount: 'todos', ip: '10.0.0.10' }),
    pod('default', 'reminder-1', { labels: { app: 'reminder' }, serviceAccount: 'reminder', ip: '10.0.0.11' }),
    ...extra,
  ];
  const s = compileProxySnapshot(buildCatalog(input(resources)), { namespace: ns, name });
  assert.ok(s);
  return s.AccessLog;
}

describe('AccessLog section', () => {
  it('absent without a Telemetry, or when none covers the pod', () => {
    assert.equal(accessLog([]), undefined);
    assert.equal(accessLog([telemetry('other', 'off', { accessLogging: [{ disabled: true }] })]), undefined);
    assert.equal(accessLog([telemetry('default', 'w', { selector: { matchLabels: { app: 'reminder' } }, accessLogging: [{ disabled: true }] })]), undefined);
  });

  it('the root namespace sets the mesh default; a namespace overrides it; a workload overrides both', () => {
    const root = telemetry('fsm-system', 'mesh-default', { accessLogging: [{ filter: { expression: 'response.code >= 400' } }] });
    const nsWide = telemetry('default', 'ns', { accessLogging: [{ randomSamplingPercentage: 10 }] });
    const workload = telemetry('default', 'todos-off', { selector: { matchLabels: { app: 'todos' } }, accessLogging: [{ disabled: true }] });
    assert.deepEqual(accessLog([root]), {
      Inbound: { Policy: 'fsm-system/mesh-default', Filter: 'response.code >= 400' },
      Outbound: { Policy: 'fsm-system/mesh-default', Filter: 'response.code >= 400' },
    });
    assert.deepEqual(accessLog([root, nsWide]), { Inbound: { Policy: 'default/ns', SamplePercent: 10 }, Outbound: { Policy: 'default/ns', SamplePercent: 10 } });
    assert.deepEqual(accessLog([root, nsWide, workload]), { Inbound: { Policy: 'default/todos-off', Disabled: true }, Outbound: { Policy: 'default/todos-off', Disabled: true } });
    // the workload Telemetry selects todos only: reminder keeps the namespace's rule
    assert.deepEqual(accessLog([root, nsWide, workload], 'reminder-1'), { Inbound: { Policy: 'default/ns', SamplePercent: 10 }, Outbound: { Policy: 'default/ns', SamplePercent: 10 } });
  });

  it('match.mode splits the sides: SERVER is inbound, CLIENT outbound; a side no entry covers falls to the next level', () => {
    const root = telemetry('fsm-system', 'mesh-default', { accessLogging: [{ disabled: true }] });
    const serverOnly = telemetry('default', 'errors-in', { accessLogging: [{ match: { mode: 'SERVER' }, filter: { expression: 'response.code >= 400' } }] });
    assert.deepEqual(accessLog([root, serverOnly]), {
      Inbound: { Policy: 'default/errors-in', Filter: 'response.code >= 400' },
      Outbound: { Policy: 'fsm-system/mesh-default', Disabled: true },
    });
    const both = telemetry('default', 'split', { accessLogging: [{ match: { mode: 'CLIENT' }, disabled: true }, { match: { mode: 'CLIENT_AND_SERVER' }, randomSamplingPercentage: 100 }] });
    // 100 % sampling is no sampling; the first entry covering a side decides it
    assert.deepEqual(accessLog([both]), { Inbound: { Policy: 'default/split' }, Outbound: { Policy: 'default/split', Disabled: true } });
  });

  it('a root-namespace Telemetry with a selector is not mesh-wide; two at one level: the first by name', () => {
    const selectedRoot = telemetry('fsm-system', 'root-selected', { selector: { matchLabels: { app: 'todos' } }, accessLogging: [{ disabled: true }] });
    assert.equal(accessLog([selectedRoot]), undefined);
    const a = telemetry('default', 'a', { accessLogging: [{ disabled: true }] });
    const b = telemetry('default', 'b', { accessLogging: [{ filter: { expression: 'true' } }] });
    assert.equal(accessLog([b, a])?.Inbound.Policy, 'default/a');
  });
});
