/**
 * Module loader hooks that append every module URL the process loads (its own files, packages and
 * node: built-ins, also those imported later on) to the file named by TESSERA_MODULE_TRACE. They
 * run on Node's loader thread, which the traced process pays for: use them to list, not to size.
 */
import { appendFileSync } from 'node:fs';

type Next = (url: string, context: unknown) => Promise<unknown>;

const file = process.env['TESSERA_MODULE_TRACE'];

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  if (file) appendFileSync(file, `${url}\n`);
  return next(url, context);
}
