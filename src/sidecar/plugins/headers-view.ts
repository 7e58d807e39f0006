/** A case-insensitive PluginHeaders view over a HeaderMap (no copy). */
import type { PluginHeaders } from '../../plugins/api.js';
import type { HeaderMap } from '../http/types.js';

export function headersView(map: HeaderMap): PluginHeaders {
  return {
    get(name) {
      const v = map[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    has(name) {
      return map[name.toLowerCase()] !== undefined;
    },
    set(name, value) {
      map[name.toLowerCase()] = String(value);
    },
    delete(name) {
      delete map[name.toLowerCase()];
    },
    entries() {
      const out: [string, string][] = [];
      for (const k in map) {
        const v = map[k];
        if (v !== undefined) out.push([k, Array.isArray(v) ? v.join(', ') : v]);
      }
      return out;
    },
  };
}
