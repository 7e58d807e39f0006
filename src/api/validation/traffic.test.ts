/** Validation of Retry, TrafficSplit and the Service traffic annotations: FSM's manifests pass, mistakes are named by field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveKindName } from '../kinds.js';
import type { RetrySpec } from '../traffic-types.js';
import { validateResource } from './index.js';
import { refusalLines } from './test-support.js';

const ctx = { source: '-', index: 1 };

const problems = (obj: unknown): string => refusalLines(obj, ctx).join('\n');

const retry = (retryPolicy: unknown, extra: Record<string, unknown> = {}) => ({
  kind: 'Retry',
  apiVersion: 'policy.flomesh.io/v1alpha1',
  metadata: { name: 'retry', namespace: 'curl' },
  spec: {
    source: { kind: 'ServiceAccount', name: 'curl', namespace: 'curl' },
    destinations: [{ kind: 'Service', name: 'httpbin', namespace: 'httpbin' }],
    retryPolicy,
    ...extra,
  },
});

const split = (spec: unknown, apiVersion = 'split.smi-spec.io/v1alpha2') => ({ apiVersion, kind: 'TrafficSplit', metadata: { name: 's', namespace: 'httpbin' }, spec });

describe('Retry', () => {
  it('kubectl names resolve', () => {
    for (const n of ['retry', 'retries', 'retries.policy.flomesh.io']) assert.equal(resolveKindName(n)?.kind, 'Retry');
  });

  it("FSM's demo and guide manifests validate; subjects without a namespace get the Retry's", () => {
    validateResource(retry({ retryOn: '5xx', perTryTimeout: '1s', numRetries: 5, retryBackoffBaseInterval: '1s' }), ctx);
    validateResource(retry({ retryOn: '5xx,retriable-4xx', perTryTimeout: '4s', numRetries: 5, retryBackoffBaseInterval: '2ms' }), ctx);
    validateResource(retry({ retryOn: 'gateway-error,connect-failure,reset,503,4xx' }), ctx);
    const r = validateResource(
      { ...retry({ retryOn: '5xx' }), spec: { source: { kind: 'ServiceAccount', name: 'curl' }, destinations: [{ kind: 'Service', name: 'httpbin' }], retryPolicy: { retryOn: '5xx' } } },
      ctx,
    );
    const spec = r.spec as RetrySpec;
    assert.equal(spec.source.namespace, 'curl');
    assert.equal(spec.destinations[0]!.namespace, 'curl');
  });

  it('refuses unknown conditions, negative retries, bad durations, wrong kinds and missing fields, by field', () => {
    assert.match(problems(retry({ retryOn: '5xx,sometimes' })), /spec\.retryPolicy\.retryOn: "sometimes" is not a retry condition/);
    assert.match(problems(retry({ retryOn: '' })), /spec\.retryPolicy\.retryOn: required field is missing/);
    assert.match(problems(retry({ retryOn: '5xx', numRetries: -1 })), /spec\.retryPolicy\.numRetries: -1 must be greater than or equal to 0/);
    assert.match(problems(retry({ retryOn: '5xx', perTryTimeout: '3 seconds' })), /spec\.retryPolicy\.perTryTimeout: "3 seconds" is not a valid duration/);
    assert.match(problems(retry({ retryOn: '5xx', retryBackoffBaseInterval: '-1s' })), /spec\.retryPolicy\.retryBackoffBaseInterval: "-1s" must be a positive duration/);
    assert.match(problems(retry({ retryOn: '5xx', retries: 3 })), /spec\.retryPolicy.*retries/);
    assert.match(problems({ ...retry({ retryOn: '5xx' }), spec: { ...retry({}).spec, retryPolicy: { retryOn: '5xx' }, source: { kind: 'Service', name: 'curl' } } }), /spec\.source\.kind/);
    assert.match(problems({ ...retry({ retryOn: '5xx' }), spec: { ...retry({}).spec, retryPolicy: { retryOn: '5xx' }, destinations: [] } }), /spec\.destinations/);
  });
});

describe('TrafficSplit', () => {
  it('kubectl names resolve', () => {
    for (const n of ['trafficsplit', 'trafficsplits', 'ts', 'trafficsplits.split.smi-spec.io']) assert.equal(resolveKindName(n)?.kind, 'TrafficSplit');
  });

  it('validates under v1alpha2 (FSM) and v1alpha3/v1alpha4, with the root named short or qualified', () => {
    const backends = [{ service: 'httpbin-v1', weight: 90 }, { service: 'httpbin-v2', weight: 10 }];
    for (const v of ['split.smi-spec.io/v1alpha2', 'split.smi-spec.io/v1alpha3', 'split.smi-spec.io/v1alpha4']) {
      for (const service of ['httpbin', 'httpbin.httpbin', 'httpbin.httpbin.svc.cluster.local']) validateResource(split({ service, backends }, v), ctx);
    }
  });

  it('refuses negative weights, all-zero weights, duplicates, another namespace and matches, by field', () => {
    assert.match(problems(split({ service: 'httpbin', backends: [{ service: 'a', weight: -5 }] })), /spec\.backends\[0\]\.weight: -5 must be greater than or equal to 0/);
    assert.match(problems(split({ service: 'httpbin', backends: [{ service: 'a', weight: 0 }] })), /spec\.backends: every weight is 0/);
    assert.match(problems(split({ service: 'httpbin', backends: [{ service: 'a', weight: 1 }, { service: 'a', weight: 2 }] })), /spec\.backends\[1\]\.service: duplicate backend "a"/);
    assert.match(problems(split({ service: 'httpbin.other', backends: [{ service: 'a', weight: 1 }] })), /spec\.service: "httpbin\.other" must name a Service in the TrafficSplit's namespace "httpbin"/);
    assert.match(problems(split({ service: 'httpbin', backends: [{ service: 'a', weight: 1 }], matches: [{ kind: 'HTTPRouteGroup', name: 'r' }] }, 'split.smi-spec.io/v1alpha4')), /spec\.matches: is not supported/);
    assert.match(problems(split({ service: 'httpbin', backends: [] })), /spec\.backends/);
    assert.match(problems(split({ service: 'httpbin', backends: [{ service: 'a', weight: '50%' }] })), /spec\.backends\[0\]\.weight/);
  });
});

describe('Service traffic annotations', () => {
  const svc = (annotations: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'httpbin', namespace: 'httpbin', annotations },
    spec: { ports: [{ port: 14001 }], selector: { app: 'httpbin' } },
  });

  it('accepts request timeouts by prefix and outlier detection settings', () => {
    validateResource(svc({ 'tessera.flomesh.io/request-timeouts': '/delay/=1s, /=30s' }), ctx);
    for (const v of ['on', 'off', 'consecutive5xx=3,baseEjectionTime=10s,maxEjectionPercent=50']) validateResource(svc({ 'tessera.flomesh.io/outlier-detection': v }), ctx);
  });

  it('refuses malformed values, naming the annotation', () => {
    assert.match(problems(svc({ 'tessera.flomesh.io/request-timeouts': '/delay=soon' })), /metadata\.annotations\[tessera\.flomesh\.io\/request-timeouts\]: "soon" is not a non-negative Go duration/);
    assert.match(problems(svc({ 'tessera.flomesh.io/request-timeouts': 'delay=1s' })), /must start with "\/"/);
    assert.match(problems(svc({ 'tessera.flomesh.io/outlier-detection': 'consecutive5xx=0' })), /outlier-detection\]: consecutive5xx: "0" is not a positive integer/);
    assert.match(problems(svc({ 'tessera.flomesh.io/outlier-detection': 'maxEjectionPercent=150' })), /maxEjectionPercent: "150" is not an integer 0-100/);
    assert.match(problems(svc({ 'tessera.flomesh.io/outlier-detection': 'interval=10s' })), /unknown setting "interval"/);
  });
});
