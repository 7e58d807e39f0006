/** dummy(): discards messages (a StreamEnd still passes, as filters never see it). */
import type { Filter } from '../runtime-types.js';

export function dummy(): Filter {
  return () => null;
}
