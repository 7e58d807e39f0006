/**
 * `node --import <this file>`: installs hooks.ts in the process (see there), and at exit adds the
 * CommonJS files the process required (which the loader hooks do not see) to the same list.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

register(new URL('./hooks.js', import.meta.url));

const file = process.env['TESSERA_MODULE_TRACE'];
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  if (!file) return;
  const urls = Object.keys(cache).filter((p) => p.startsWith('/')).map((p) => pathToFileURL(p).href);
  if (urls.length > 0) appendFileSync(file, `${urls.join('\n')}\n`);
});
