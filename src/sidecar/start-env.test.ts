/** The sidecar's start: tokens read once and removed from the environment; scripts get the spec env only. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeStartEnv } from './start-env.js';
import { pipyScriptEnv, setPipyScriptEnv } from './plugins/index.js';
import { Codebase, Context, Message, compileScript } from '../pipyjs/index.js';

test('the tokens are taken out of the environment; os.env of a script holds the spec env and no token', async () => {
  const env: NodeJS.ProcessEnv = {
    TESSERA_PROXY_TOKEN: '1700000000.1700003600.proxy-token-value',
    TESSERA_ADMIN_TOKEN: 'admin-token-value',
    TESSERA_POD_NAME: 'curl-1',
    PATH: '/usr/bin',
    // a spec that tries to hand a credential name to scripts gets nothing for it
    TESSERA_SCRIPT_ENV: JSON.stringify({ TESSERA_POD_NAME: 'curl-1', TESSERA_MESH_NAME: 'fsm', TESSERA_PROXY_TOKEN: 'x', TESSERA_ADMIN_TOKEN: 'y' }),
  };
  const start = takeStartEnv(env);
  assert.equal(start.proxyToken, '1700000000.1700003600.proxy-token-value');
  assert.equal(start.adminToken, 'admin-token-value');
  assert.deepEqual(Object.keys(env).sort(), ['PATH', 'TESSERA_POD_NAME']);
  assert.deepEqual(start.scriptEnv, { TESSERA_POD_NAME: 'curl-1', TESSERA_MESH_NAME: 'fsm' });

  setPipyScriptEnv(start.scriptEnv);
  const cb = new Codebase({ log: () => {}, transport: { request: () => Promise.resolve(new Message({ status: 200 })) }, idleTimeoutMs: 1000, env: pipyScriptEnv() });
  const m = cb.load('plugins/env.js', compileScript('plugins/env.js', 'pipy().pipeline().replaceMessage(() => new Message({ status: 200 }, JSON.stringify(os.env)))'));
  cb.bind();
  const out = (await cb.runEntry(m, new Message({ method: 'GET', path: '/', headers: {} }), new Context(), null)) as Message;
  assert.deepEqual(JSON.parse(out.body!.toString()), { TESSERA_POD_NAME: 'curl-1', TESSERA_MESH_NAME: 'fsm' });
});

test('a malformed or absent script env is empty: scripts get less, never more', () => {
  assert.deepEqual(takeStartEnv({ TESSERA_SCRIPT_ENV: '{not json' }).scriptEnv, {});
  assert.deepEqual(takeStartEnv({ TESSERA_SCRIPT_ENV: '["a"]' }).scriptEnv, {});
  assert.deepEqual(takeStartEnv({ TESSERA_SCRIPT_ENV: '{"A":1,"B":"b"}' }).scriptEnv, { B: 'b' });
  assert.deepEqual(takeStartEnv({}).scriptEnv, {});
});
