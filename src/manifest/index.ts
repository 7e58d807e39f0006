/** Public entry of manifest reading: YAML/JSON text and `-f` paths in, `ManifestDocument`s out. */
export { parseManifests } from './parse.js';
export { loadManifests } from './load.js';
