/**
 * Modules a plugin may import; everything else is refused at compile time. Apart from compile.ts so
 * the sidecar, which checks them again when it evaluates a plugin, does not load the compiler.
 */
export const PLUGIN_IMPORTS: readonly string[] = [
  'tessera/plugin',
  'node:crypto',
  'node:buffer',
  'node:url',
  'node:util',
  'node:querystring',
];
