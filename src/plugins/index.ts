/** Native plugins: the typed plugin API and compilation at admission and in the control plane. */
export { checkPluginScript, compilePluginScript } from './compile.js';
export { PLUGIN_IMPORTS } from './imports.js';
export type { CompiledPlugin } from './compile.js';
export { definePlugin } from './api.js';
export type * from './api.js';
