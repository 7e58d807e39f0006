/**
 * Go `flag` package parsing, as fortio's command line uses it: `-name value`, `--name value`,
 * `-name=value`; booleans take no value (`-quiet`, `-quiet=false`); parsing stops at the first
 * argument that is not a flag, or after `--`.
 */

export type FlagKind = 'bool' | 'value' | 'list';

export class FlagError extends Error {
  readonly code = 'FORTIO_ERR_FLAG';
}

export interface ParsedFlags {
  values: Map<string, string>;
  lists: Map<string, string[]>;
  bools: Map<string, boolean>;
  rest: string[];
}

export function parseFlags(argv: readonly string[], spec: Readonly<Record<string, FlagKind>>): ParsedFlags {
  const out: ParsedFlags = { values: new Map(), lists: new Map(), bools: new Map(), rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const kind = spec[name];
    if (kind === undefined) throw new FlagError(`flag provided but not defined: -${name}`);
    if (kind === 'bool') {
      const text = eq === -1 ? 'true' : body.slice(eq + 1);
      if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(text)) {
        throw new FlagError(`invalid boolean value "${text}" for -${name}`);
      }
      out.bools.set(name, ['true', '1', 't', 'TRUE', 'True'].includes(text));
      continue;
    }
    let value: string;
    if (eq !== -1) value = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = argv[++i]!;
    }
    if (kind === 'list') out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
    else out.values.set(name, value);
  }
  out.rest = argv.slice(i);
  return out;
}
