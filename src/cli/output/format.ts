/** Parses `-o/--output` values: json, yaml, wide, name, jsonpath=TEMPLATE (quoted or not). */

export type OutputFormat =
  | { type: 'table'; wide: boolean }
  | { type: 'json' }
  | { type: 'yaml' }
  | { type: 'name' }
  | { type: 'jsonpath'; template: string };

export const ALLOWED_FORMATS = 'json, jsonpath, name, wide, yaml';

/**
 * Strips one pair of matching quotes. The shell normally removes them, but scripts that build
 * argument arrays (or cmd.exe) pass `jsonpath='{...}'` through literally.
 */
function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === "'" || s[0] === '"') && s[s.length - 1] === s[0]) return s.slice(1, -1);
  return s;
}

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === '') return { type: 'table', wide: false };
  // pflag accepts `-o=json`; commander hands us `=json`
  const v = value.startsWith('=') ? value.slice(1) : value;
  switch (v) {
    case 'wide':
      return { type: 'table', wide: true };
    case 'json':
    case 'yaml':
    case 'name':
      return { type: v };
  }
  const m = /^jsonpath(?:=(.*))?$/s.exec(v);
  if (m) {
    if (m[1] === undefined || unquote(m[1]) === '') throw new Error('template format specified but no template given');
    return { type: 'jsonpath', template: unquote(m[1]) };
  }
  throw new Error(`unable to match a printer suitable for the output format "${v}", allowed formats are: ${ALLOWED_FORMATS}`);
}
