/**
 * The PipyJS runtime: runs FSM plugin scripts (`spec.pipyscript`) inside the sidecar's chains and
 * `flomesh/pipy` workloads standalone, in a whole-message model. The only way into this folder.
 */
export { compilePipyScript, compileScript, ScriptSyntaxError, type CompiledScript } from './script.js';
export { sealForScripts } from './confine/index.js';
export { Codebase, normalizePath } from './codebase.js';
export { Context, WaitGroup } from './context.js';
export { Message, MessageStart, StreamEnd, isThenable, type Output, type BodySource } from './message.js';
export { Data } from './data.js';
export { algo, Cache, URLRouter } from './algo.js';
export { delaySeconds } from './delay.js';
export { PipyLoadError } from './errors.js';
export { PipyModule } from './module.js';
export { encodeHeaders, encodeResponseHead, decodeHeaders, type RequestHead, type ResponseHead } from './http-head.js';
export { discard } from './filters/fork.js';
export { runStandalone, type Standalone, type StandaloneOptions } from './standalone/run.js';
export { NodeHttpTransport, synthesised } from './standalone/transport.js';
export { parsePipyArgs } from './main.js';
export type { HttpTransport, Link, LogLevel, PipyHost, Run } from './runtime-types.js';
export { pipyBenchmarkPlugin, NATIVE_TOKEN_INJECTOR, type BenchmarkPluginPair } from './benchmark.js';
