/** kubectl tabwriter layout: widths, 3-space gaps, minimum width, no trailing spaces. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable } from './table.js';

test('pads every column but the last to its widest cell plus three spaces', () => {
  const out = formatTable(['NAME', 'AGE'], [['header-modifier', '5s']]);
  assert.equal(out, 'NAME              AGE\nheader-modifier   5s\n');
});

test('columns are at least six wide, as with kubectl', () => {
  assert.equal(formatTable(['A', 'B', 'C'], [['1', '2', '3']]), 'A     B     C\n1     2     3\n');
});

test('lines carry no trailing spaces and empty cells still align', () => {
  const out = formatTable(['NAME', 'IP', 'NODE'], [['a', '', 'local'], ['bbbbbbbb', '127.0.0.1', 'local']]);
  assert.equal(out, 'NAME       IP          NODE\na                      local\nbbbbbbbb   127.0.0.1   local\n');
  for (const line of out.split('\n')) assert.equal(line, line.trimEnd());
});

test('no header (--no-headers) and no rows', () => {
  assert.equal(formatTable(undefined, [['x', '1s']]), 'x     1s\n');
  assert.equal(formatTable(undefined, []), '');
});

test('counts characters, not UTF-16 units', () => {
  assert.equal(formatTable(['N', 'X'], [['😀😀😀😀', 'y']]), 'N      X\n😀😀😀😀   y\n');
});
