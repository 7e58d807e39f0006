/** AGE formatting, checked against kubectl's HumanDuration boundaries. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAge, humanDuration } from './age.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

test('seconds up to two minutes', () => {
  assert.equal(humanDuration(0), '0s');
  assert.equal(humanDuration(5 * s), '5s');
  assert.equal(humanDuration(119 * s + 999), '119s');
  assert.equal(humanDuration(-1500), '0s');
  assert.equal(humanDuration(-3 * s), '<invalid>');
});

test('minutes and seconds below ten minutes, then whole minutes below three hours', () => {
  assert.equal(humanDuration(2 * m), '2m');
  assert.equal(humanDuration(3 * m + 12 * s), '3m12s');
  assert.equal(humanDuration(10 * m + 30 * s), '10m');
  assert.equal(humanDuration(179 * m), '179m');
});

test('hours, days and years', () => {
  assert.equal(humanDuration(3 * h), '3h');
  assert.equal(humanDuration(5 * h + 7 * m), '5h7m');
  assert.equal(humanDuration(20 * h), '20h');
  assert.equal(humanDuration(2 * d + 3 * h), '2d3h');
  assert.equal(humanDuration(3 * d), '3d');
  assert.equal(humanDuration(100 * d), '100d');
  assert.equal(humanDuration(800 * d), '2y70d');
  assert.equal(humanDuration(9 * 365 * d), '9y');
});

test('formatAge reads RFC 3339 timestamps and tolerates missing ones', () => {
  const now = Date.parse('2024-01-01T00:05:00Z');
  assert.equal(formatAge('2024-01-01T00:00:00Z', now), '5m');
  assert.equal(formatAge('2024-01-01T00:04:55Z', now), '5s');
  assert.equal(formatAge(undefined, now), '<unknown>');
  assert.equal(formatAge('yesterday', now), '<unknown>');
});
