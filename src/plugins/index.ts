/** Native plugins: the typed plugin API and compilation at admission and in the control plane. */
export { checkPluginScript, compilePluginScript, PLUGIN_IMPORTS } from './compile.js';
export type { CompiledPlugin } from './compile.js';
export { definePlugin } from './api.js';
export type * from './api.js';
