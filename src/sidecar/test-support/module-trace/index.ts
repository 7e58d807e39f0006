/** Which modules a Node process loads: `node --import` the register file with TESSERA_MODULE_TRACE set. */
export const MODULE_TRACE_REGISTER = new URL('./register.js', import.meta.url);
export const MODULE_TRACE_ENV = 'TESSERA_MODULE_TRACE';
