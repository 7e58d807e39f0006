/** Confinement of PipyJS scripts: the script realm, its membrane, and the refusal of `import()`. */
export { scriptRealm, type ScriptRealm } from './realm.js';
export { Membrane, sealForScripts, type ScopeSource } from './membrane.js';
export { importKeywordError } from './imports.js';
