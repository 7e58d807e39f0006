/** Compiling pipyscripts: syntax errors name the plugin, the field and plugins/NAME.js:LINE:COLUMN. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePipyScript } from './index.js';
import { compilePluginScript } from '../plugins/compile.js';
import { isMeshError } from '../lib/errors.js';
import { SEED_000, SEED_001, samplePluginScript, seedPluginScript } from './test-support/scripts.js';

describe('compilePipyScript', () => {
  test('every seed and sample plugin script compiles', () => {
    compilePipyScript('token-injector', seedPluginScript(SEED_000, 'token-injector'));
    compilePipyScript('token-verifier', seedPluginScript(SEED_000, 'token-verifier'));
    compilePipyScript('token-verifier', seedPluginScript(SEED_001, 'token-verifier'));
    for (const f of ['plugins-cors.yaml', 'plugins-fault-injection.yaml', 'plugins-header-modifier.yaml', 'plugins-traffic-mirror.yaml']) {
      const p = samplePluginScript(f);
      compilePipyScript(p.name, p.script);
    }
  });

  test('a syntax error: MESH_ERR_PLUGIN_COMPILE with plugin, field and file:line:column', () => {
    const source = "(\npipy({\n  _a: 1,\n  _b: 2 +\n})\n.pipeline()\n)";
    try {
      compilePipyScript('broken', source);
      assert.fail('compiled');
    } catch (err) {
      assert.ok(isMeshError(err));
      assert.equal(err.code, 'MESH_ERR_PLUGIN_COMPILE');
      assert.match(err.message, /^Plugin broken: spec\.pipyscript: plugins\/broken\.js:5:1: SyntaxError: /);
      assert.deepEqual(err.problems.map((p) => [p.resource, p.field]), [['Plugin broken', 'spec.pipyscript']]);
      assert.match(err.problems[0]!.message, /^plugins\/broken\.js:5:1: /);
    }
  });

  test('an unclosed expression is reported at the end of the script', () => {
    assert.throws(() => compilePipyScript('open', 'pipy(\n.pipeline('), /plugins\/open\.js:2:\d+: SyntaxError/);
  });

  test('statements are not an expression: refused', () => {
    assert.throws(() => compilePipyScript('stmts', 'var x = 1;\npipy()'), /plugins\/stmts\.js:1:1: SyntaxError/);
  });

  test('compilePluginScript (apply-time admission) refuses a broken pipyscript', async () => {
    await assert.rejects(
      compilePluginScript({ apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'Plugin', metadata: { name: 'bad' }, spec: { pipyscript: 'pipy(}' } }),
      (err: unknown) => isMeshError(err) && err.code === 'MESH_ERR_PLUGIN_COMPILE' && /plugins\/bad\.js:1:6/.test(err.message),
    );
    const ok = await compilePluginScript({ apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'Plugin', metadata: { name: 'good' }, spec: { pipyscript: 'pipy()' } });
    assert.equal(ok.kind, 'pipy');
  });
});
