/** Which images are fortio's and where Tessera's fortio starts: what `exec` needs, without the fortio app itself. */
import { fileURLToPath } from 'node:url';
import { imageName } from './image-name.js';

export const FORTIO_ENTRY = fileURLToPath(new URL('../../apps/fortio/main.js', import.meta.url));

export function isFortioImage(image: string): boolean {
  const name = imageName(image);
  return name === 'fortio' || name.endsWith('/fortio');
}
