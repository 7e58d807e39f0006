/**
 * RFC 6902 JSON patch with RFC 6901 JSON Pointers. The whole operations document is validated
 * before anything is applied, so a malformed document is always reported as PATCH_INVALID even
 * when an earlier operation would also have failed against the target. The target is cloned once
 * and then edited in place; values taken from the patch are cloned as they are inserted.
 */

import { PatchError } from './errors.js';
import { deepClone, deepEqual, describe, hasOwn, isObject, put, type JsonObject } from './json.js';

type OpName = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';

interface Operation {
  index: number;
  op: OpName;
  path: string[];
  pathText: string;
  from: string[];
  fromText: string;
  value: unknown;
}

const OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  const operations = parseOperations(ops);
  let doc = deepClone(target);
  for (const op of operations) doc = applyOperation(doc, op);
  return doc;
}

function parseOperations(ops: unknown): Operation[] {
  if (!Array.isArray(ops)) {
    throw new PatchError('PATCH_INVALID', `a JSON patch must be an array of operations, got ${describe(ops)}`);
  }
  return ops.map((raw, index) => parseOperation(raw, index));
}

function parseOperation(raw: unknown, index: number): Operation {
  const invalid = (msg: string, path?: string): PatchError =>
    new PatchError('PATCH_INVALID', `operation ${index}: ${msg}`, { opIndex: index, ...(path === undefined ? {} : { path }) });
  if (!isObject(raw)) throw invalid(`must be an object, got ${describe(raw)}`);
  if (!hasOwn(raw, 'op')) throw invalid('missing "op"');
  const op = raw['op'];
  if (typeof op !== 'string' || !OPS.has(op)) throw invalid(`unknown op ${JSON.stringify(op)}`);
  if (!hasOwn(raw, 'path')) throw invalid(`${op}: missing "path"`);
  const pathText = raw['path'];
  if (typeof pathText !== 'string') throw invalid(`${op}: "path" must be a string, got ${describe(pathText)}`);
  const path = parsePointer(pathText, (m) => invalid(`${op}: "path" ${m}`, pathText));
  let from: string[] = [];
  let fromText = '';
  if (op === 'move' || op === 'copy') {
    if (!hasOwn(raw, 'from')) throw invalid(`${op}: missing "from"`, pathText);
    const f = raw['from'];
    if (typeof f !== 'string') throw invalid(`${op}: "from" must be a string, got ${describe(f)}`, pathText);
    fromText = f;
    from = parsePointer(f, (m) => invalid(`${op}: "from" ${m}`, f));
    // RFC 6902 §4.4: a location cannot be moved into one of its own children.
    if (op === 'move' && path.length > from.length && from.every((t, i) => t === path[i])) {
      throw invalid(`move: "from" ${JSON.stringify(f)} is a proper prefix of "path" ${JSON.stringify(pathText)}`, pathText);
    }
  }
  let value: unknown;
  if (op === 'add' || op === 'replace' || op === 'test') {
    // A present member whose value is null is a real value; only a missing member is an error.
    if (!hasOwn(raw, 'value') || raw['value'] === undefined) throw invalid(`${op}: missing "value"`, pathText);
    value = raw['value'];
  }
  if (op === 'remove' && path.length === 0) throw invalid('remove: cannot remove the whole document', pathText);
  return { index, op: op as OpName, path, pathText, from, fromText, value };
}

/** RFC 6901: '' is the whole document; otherwise '/'-separated tokens with ~1 = '/' and ~0 = '~'. */
function parsePointer(text: string, invalid: (msg: string) => PatchError): string[] {
  if (text === '') return [];
  if (text[0] !== '/') throw invalid(`${JSON.stringify(text)} is not a JSON Pointer (must be empty or start with "/")`);
  const tokens = text.slice(1).split('/');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.includes('~')) {
      if (/~(?![01])/.test(t)) throw invalid(`${JSON.stringify(text)} has a "~" not followed by 0 or 1`);
      // ~1 first, then ~0, so "~01" decodes to "~1" and not to "/".
      tokens[i] = t.replace(/~1/g, '/').replace(/~0/g, '~');
    }
  }
  return tokens;
}

function applyOperation(doc: unknown, op: Operation): unknown {
  switch (op.op) {
    case 'add':
      return add(doc, op.path, deepClone(op.value), op);
    case 'remove':
      remove(doc, op.path, op, op.pathText);
      return doc;
    case 'replace': {
      if (op.path.length === 0) return deepClone(op.value);
      const { parent, key } = locate(doc, op.path, op, op.pathText);
      if (Array.isArray(parent)) parent[key as number] = deepClone(op.value);
      else put(parent, key as string, deepClone(op.value));
      return doc;
    }
    case 'move': {
      const value = get(doc, op.from, op, op.fromText);
      if (op.from.length === op.path.length && op.from.every((t, i) => t === op.path[i])) return doc;
      remove(doc, op.from, op, op.fromText);
      return add(doc, op.path, value, op);
    }
    case 'copy':
      return add(doc, op.path, deepClone(get(doc, op.from, op, op.fromText)), op);
    case 'test': {
      const found = lookup(doc, op.path);
      if (found === undefined) {
        throw new PatchError('PATCH_TEST_FAILED', `operation ${op.index}: test: path ${JSON.stringify(op.pathText)} does not exist`, {
          opIndex: op.index,
          path: op.pathText,
        });
      }
      if (!deepEqual(found.value, op.value)) {
        throw new PatchError(
          'PATCH_TEST_FAILED',
          `operation ${op.index}: test: value at ${JSON.stringify(op.pathText)} is ${JSON.stringify(found.value)}, expected ${JSON.stringify(op.value)}`,
          { opIndex: op.index, path: op.pathText },
        );
      }
      return doc;
    }
  }
}

function conflict(op: Operation, pathText: string, msg: string): PatchError {
  return new PatchError('PATCH_CONFLICT', `operation ${op.index}: ${op.op}: ${msg}`, { opIndex: op.index, path: pathText });
}

/** Array indices are decimal without leading zeros (RFC 6901 §4); "-" is handled by callers. */
function arrayIndex(token: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : undefined;
}

function child(container: unknown, token: string): { value: unknown } | undefined {
  if (Array.isArray(container)) {
    const i = arrayIndex(token);
    return i !== undefined && i < container.length ? { value: container[i] } : undefined;
  }
  if (isObject(container) && hasOwn(container, token)) return { value: container[token] };
  return undefined;
}

function lookup(doc: unknown, path: string[]): { value: unknown } | undefined {
  let cur: { value: unknown } | undefined = { value: doc };
  for (const t of path) {
    cur = child(cur.value, t);
    if (!cur) return undefined;
  }
  return cur;
}

function get(doc: unknown, path: string[], op: Operation, pathText: string): unknown {
  const found = lookup(doc, path);
  if (!found) throw conflict(op, pathText, `path ${JSON.stringify(pathText)} does not exist`);
  return found.value;
}

function parentOf(doc: unknown, path: string[], op: Operation, pathText: string): JsonObject | unknown[] {
  const found = lookup(doc, path.slice(0, -1));
  if (!found) throw conflict(op, pathText, `the parent of ${JSON.stringify(pathText)} does not exist`);
  const parent = found.value;
  if (!Array.isArray(parent) && !isObject(parent)) {
    throw conflict(op, pathText, `the parent of ${JSON.stringify(pathText)} is ${describe(parent)}, not an object or array`);
  }
  return parent;
}

/** The existing location `path` names: its container and the key or index within it. */
function locate(doc: unknown, path: string[], op: Operation, pathText: string): { parent: JsonObject | unknown[]; key: string | number } {
  const parent = parentOf(doc, path, op, pathText);
  const token = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(token);
    if (i === undefined || i >= parent.length) {
      throw conflict(op, pathText, `index ${JSON.stringify(token)} is out of bounds in ${JSON.stringify(pathText)} (array length ${parent.length})`);
    }
    return { parent, key: i };
  }
  if (!hasOwn(parent, token)) throw conflict(op, pathText, `path ${JSON.stringify(pathText)} does not exist`);
  return { parent, key: token };
}

function add(doc: unknown, path: string[], value: unknown, op: Operation): unknown {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path, op, op.pathText);
  const token = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    if (token === '-') {
      parent.push(value);
      return doc;
    }
    const i = arrayIndex(token);
    if (i === undefined || i > parent.length) {
      throw conflict(op, op.pathText, `index ${JSON.stringify(token)} is out of bounds in ${JSON.stringify(op.pathText)} (array length ${parent.length})`);
    }
    parent.splice(i, 0, value);
    return doc;
  }
  put(parent, token, value);
  return doc;
}

function remove(doc: unknown, path: string[], op: Operation, pathText: string): void {
  const { parent, key } = locate(doc, path, op, pathText);
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key as string];
}
