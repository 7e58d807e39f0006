/** Confinement of PipyJS scripts: the script realm, its membrane, and the refusal of `import()`. */
export { scriptRealm, sealForScripts, type ScriptRealm } from './realm.js';
export { Membrane, type ScopeSource } from './membrane.js';
export { importKeywordError } from './imports.js';
