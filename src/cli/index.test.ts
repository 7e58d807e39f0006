/** Lazy command loading: the verb decides which command module loads; help and unknown verbs see them all. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProgram, verbOf } from './index.js';
import { runTessera } from './testing/harness.js';
import type { CliDeps } from './deps.js';

const deps = { version: '0.0.0', stdout: { write: () => true }, stderr: { write: () => true } } as unknown as CliDeps;

describe('lazy commands', () => {
  it('finds the verb after the root options that take a value', () => {
    assert.equal(verbOf(['get', 'pods']), 'get');
    assert.equal(verbOf(['--state', 'd', '-n', 'x', 'proxy', 'get', 'config_dump', 'p']), 'proxy');
    assert.equal(verbOf(['--state=d', 'version']), 'version');
    assert.equal(verbOf(['--help']), undefined);
    assert.equal(verbOf(['--', 'get']), undefined);
    assert.equal(verbOf([]), undefined);
  });

  it('registers only the command of a known verb, every command otherwise', async () => {
    assert.deepEqual((await buildProgram(deps, ['get', 'pods'])).commands.map((c) => c.name()), ['get']);
    assert.deepEqual((await buildProgram(deps, ['ns', 'list'])).commands.map((c) => c.name()), ['namespace']);
    const all = (await buildProgram(deps)).commands.map((c) => c.name());
    for (const verb of ['up', 'down', 'get', 'proxy', 'version', 'install', 'uninstall', 'oidc-login', 'node', 'namespace']) assert.ok(all.includes(verb), verb);
    assert.deepEqual((await buildProgram(deps, ['gte', 'pods'])).commands.map((c) => c.name()), all);
  });

  it('still suggests the verb a typo meant, and lists every command in help', async () => {
    const typo = await runTessera(['gte', 'pods']);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /Did you mean get\?/);
    const help = await runTessera(['--help']);
    assert.equal(help.code, 0);
    for (const verb of ['apply', 'get', 'proxy', 'version', 'oidc-login']) assert.match(help.stdout, new RegExp(`\\n  ${verb}\\b`));
  });
});
