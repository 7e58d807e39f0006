/** Tests for the Telemetry validator: Istio's access-log manifests, kubectl names, and exact messages for what is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveKindName } from '../kinds.js';
import { validateResource } from './index.js';
import { refusalLines } from './test-support.js';

const ctx = { source: '-', index: 1 };
const telemetry = (spec: unknown, apiVersion = 'telemetry.istio.io/v1') => ({ apiVersion, kind: 'Telemetry', metadata: { name: 't', namespace: 'default' }, spec });

const problems = (obj: unknown): string[] => refusalLines(obj, ctx);

describe('Telemetry', () => {
  it('kubectl names resolve', () => {
    for (const n of ['telemetry', 'telemetries', 'telemetries.telemetry.istio.io']) assert.equal(resolveKindName(n)?.kind, 'Telemetry');
  });

  it("Istio's access-log examples validate under v1 and v1alpha1", () => {
    for (const v of ['telemetry.istio.io/v1', 'telemetry.istio.io/v1alpha1']) {
      validateResource(telemetry({ accessLogging: [{ providers: [{ name: 'envoy' }] }] }, v), ctx);
      validateResource(telemetry({ accessLogging: [{ disabled: true }] }, v), ctx);
      validateResource(telemetry({ selector: { matchLabels: { app: 'httpbin' } }, accessLogging: [{ providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 400' } }] }, v), ctx);
      validateResource(telemetry({ accessLogging: [{ match: { mode: 'SERVER' }, randomSamplingPercentage: 12.5 }] }, v), ctx);
    }
  });

  it('refuses a filter that does not compile, an unknown provider, a bad mode or percentage', () => {
    const p = problems(telemetry({ accessLogging: [{ filter: { expression: 'respnse.code >= 400' } }] }));
    assert.match(p.join('\n'), /spec\.accessLogging\[0\]\.filter\.expression: is not a valid filter: Unknown variable: respnse/);
    assert.match(problems(telemetry({ accessLogging: [{ providers: [{ name: 'otel' }] }] })).join('\n'), /spec\.accessLogging\[0\]\.providers\[0\]\.name: unknown provider "otel"; the sidecar's log is the provider "envoy"/);
    assert.match(problems(telemetry({ accessLogging: [{ match: { mode: 'BOTH' } }] })).join('\n'), /spec\.accessLogging\[0\]\.match\.mode/);
    assert.match(problems(telemetry({ accessLogging: [{ randomSamplingPercentage: 101 }] })).join('\n'), /randomSamplingPercentage: 101 is out of range 0-100/);
  });

  it('refuses metrics, tracing and targetRefs by name rather than ignore them', () => {
    const p = problems(telemetry({ metrics: [{ providers: [{ name: 'prometheus' }] }], tracing: [{}], targetRefs: [{ kind: 'Gateway' }] })).join('\n');
    assert.match(p, /spec\.metrics: is not supported/);
    assert.match(p, /spec\.tracing: is not supported/);
    assert.match(p, /spec\.targetRefs: is not supported: select workloads with selector\.matchLabels/);
  });
});
