/**
 * Reads expected outputs straight from the seed documents, so tests compare against what the
 * seeds print rather than a copy that could drift.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEEDS } from './mesh.js';

export function seedText(file: string): string {
  return readFileSync(join(SEEDS, file), 'utf8');
}

/**
 * The JSON array printed after the `occurrence`-th (0-based) line containing `command`.
 * Seeds print `jq` output as a bracketed list right below the command.
 */
export function printedListAfter(text: string, command: string, occurrence = 0): string[] {
  let from = 0;
  let at = -1;
  for (let i = 0; i <= occurrence; i++) {
    at = text.indexOf(command, from);
    if (at < 0) throw new Error(`seed has no ${i + 1}th "${command}"`);
    from = at + command.length;
  }
  const open = text.indexOf('[', from);
  const close = text.indexOf(']', open);
  return JSON.parse(text.slice(open, close + 1)) as string[];
}
