/** The runtime reads MeshConfig pathNormalization from a snapshot compiled by the real compiler, and refuses a mode it does not know. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshError } from '../lib/errors.js';
import { meshConfig } from '../snapshot/testdata/builders.js';
import { DEFAULT_PATH_NORMALIZATION } from './engine/index.js';
import { SidecarLog } from './observability/log.js';
import { SidecarMetrics } from './observability/metrics.js';
import { buildRuntime } from './runtime.js';
import { addresses, compileFor, MESH, worldResources } from './test-support/world.js';
import { UpstreamClient } from './upstream/index.js';

describe('runtime: Spec.PathNormalization', () => {
  const a = addresses(201);
  const deps = { upstream: new UpstreamClient({ timeoutMs: 1000 }), log: new SidecarLog('error'), metrics: new SidecarMetrics({ pod: 'echo-a', namespace: 'demo' }) };
  const compile = (spec: Parameters<typeof meshConfig>[0]) => compileFor([...worldResources(a).filter((r) => r.kind !== 'MeshConfig'), meshConfig(spec, MESH)], a.echoA);

  it('the default when the MeshConfig leaves it unset; the mode and options when it sets them', async () => {
    const plain = await compile({});
    assert.equal(buildRuntime(plain.version, plain.snapshot, deps).pathNormalization, DEFAULT_PATH_NORMALIZATION);
    const set = await compile({ pathNormalization: { normalization: 'BASE', caseInsensitive: true, stripPathParameters: true } });
    assert.deepEqual({ ...buildRuntime(set.version, set.snapshot, deps).pathNormalization }, { mode: 'BASE', lowerCase: true, stripParameters: true });
    const trimmed = await compile({ pathNormalization: { stripTrailingSlash: true } });
    assert.deepEqual({ ...buildRuntime(trimmed.version, trimmed.snapshot, deps).pathNormalization }, { mode: 'DECODE_AND_MERGE_SLASHES', lowerCase: false, stripParameters: false, stripTrailingSlash: true });
  });

  it('a snapshot naming a mode the sidecar does not know is refused as a whole (the previous one stays)', async () => {
    const v = await compile({ pathNormalization: { normalization: 'BASE' } });
    (v.snapshot.Spec.PathNormalization as { Normalization: string }).Normalization = 'LOOSE';
    assert.throws(() => buildRuntime(v.version, v.snapshot, deps), (e: unknown) => isMeshError(e) && e.code === 'MESH_ERR_SNAPSHOT_INVALID' && /PathNormalization/.test(e.message));
  });
});
