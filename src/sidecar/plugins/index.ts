/** Running plugins inside the sidecar's chains. */
export { evaluateNativePlugin } from './evaluate.js';
export { nativePluginModule, unsupportedPluginModule } from './module.js';
export { pipyScriptEnv, setPipyScriptEnv } from './script-env.js';
