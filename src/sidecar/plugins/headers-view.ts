/** A case-insensitive PluginHeaders view over a HeaderMap (no copy). */
import type { PluginHeaders } from '../../plugins/api.js';
import type { HeaderMap } from '../http/types.js';

export class HeadersView implements PluginHeaders {
  constructor(private readonly map: HeaderMap) {}
  get(name: string): string | undefined {
    const v = this.map[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.map[name.toLowerCase()] !== undefined;
  }
  set(name: string, value: string): void {
    this.map[name.toLowerCase()] = String(value);
  }
  delete(name: string): void {
    delete this.map[name.toLowerCase()];
  }
  entries(): [string, string][] {
    const out: [string, string][] = [];
    for (const k in this.map) {
      const v = this.map[k];
      if (v !== undefined) out.push([k, Array.isArray(v) ? v.join(', ') : v]);
    }
    return out;
  }
}

export function headersView(map: HeaderMap): PluginHeaders {
  return new HeadersView(map);
}
