/**
 * For `npm run bench`: the same plugin logic as a PipyJS plugin (seed 000's token-injector, read
 * from the shared seeds at run time) and as a native plugin, as Plugin resources plus the
 * PluginConfig that turns them on, so the bench can measure what the PipyJS runtime adds.
 */
import type { Plugin } from '../api/types.js';
import { SEED_000, seedPluginScript } from './test-support/scripts.js';

export interface BenchmarkPluginPair {
  name: string;
  priority: number;
  /** the PluginConfig `spec.config` both variants read */
  config: { AccessToken: string };
  /** Plugin with `spec.pipyscript` (seed 000's token-injector, unchanged) */
  pipy: Plugin;
  /** Plugin with `spec.script`: the same logic as a native plugin */
  native: Plugin;
}

/** The native twin of token-injector: set x-iam-token from the config, then the rest of the chain. */
export const NATIVE_TOKEN_INJECTOR = `
import { definePlugin } from 'tessera/plugin';
interface Config { AccessToken?: string }
export default definePlugin<Config>({
  onRequest(ctx) {
    const token = ctx.config?.AccessToken;
    if (token) ctx.request.headers.set('x-iam-token', token);
  },
});
`;

/**
 * Both variants under the same name (apply one or the other, with a PluginChain on
 * `outbound-http` and a PluginConfig `{AccessToken}` for the destination service).
 */
export function pipyBenchmarkPlugin(name = 'token-injector'): BenchmarkPluginPair {
  const priority = 115;
  const meta = { name };
  return {
    name,
    priority,
    config: { AccessToken: '2f1acc6c3a606b082e5eef5e54414ffb' },
    pipy: { apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'Plugin', metadata: meta, spec: { priority, pipyscript: seedPluginScript(SEED_000, 'token-injector') } } as Plugin,
    native: { apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'Plugin', metadata: meta, spec: { priority, script: NATIVE_TOKEN_INJECTOR } } as Plugin,
  };
}
