/** HumanDuration at every boundary where its output changes shape, and the timestamp helpers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRFC3339, humanDuration, parseTimestamp, translateTimestampSince } from './index.js';
import { DAY, HOUR, MIN, NOW, SEC, ago } from './testing.js';

const cases: [number, string][] = [
  [-2 * SEC, '<invalid>'],
  [-1999, '0s'], // int(-1.999s) is -1: tolerated skew
  [-SEC, '0s'],
  [-999, '0s'], // truncates to 0
  [0, '0s'],
  [5 * SEC, '5s'],
  [5 * SEC + 999, '5s'],
  [119 * SEC, '119s'],
  [120 * SEC, '2m'],
  [121 * SEC, '2m1s'],
  [3 * MIN + 2 * SEC, '3m2s'],
  [9 * MIN + 59 * SEC, '9m59s'],
  [10 * MIN, '10m'],
  [10 * MIN + 30 * SEC, '10m'],
  [179 * MIN + 59 * SEC, '179m'],
  [180 * MIN, '3h'],
  [3 * HOUR + MIN, '3h1m'],
  [4 * HOUR, '4h'],
  [7 * HOUR + 59 * MIN + 59 * SEC, '7h59m'],
  [8 * HOUR, '8h'],
  [8 * HOUR + 30 * MIN, '8h'],
  [47 * HOUR + 59 * MIN, '47h'],
  [48 * HOUR, '2d'],
  [49 * HOUR, '2d1h'],
  [7 * DAY + 23 * HOUR, '7d23h'],
  [8 * DAY, '8d'],
  [8 * DAY + 23 * HOUR, '8d'],
  [729 * DAY + 23 * HOUR, '729d'],
  [730 * DAY, '2y'],
  [731 * DAY, '2y1d'],
  [1000 * DAY, '2y270d'],
  [2919 * DAY, '7y364d'],
  [2920 * DAY, '8y'],
  [3000 * DAY, '8y'],
  [36500 * DAY, '100y'],
];

for (const [ms, expected] of cases) {
  test(`humanDuration(${ms}ms) is ${expected}`, () => {
    assert.equal(humanDuration(ms), expected);
  });
}

test('translateTimestampSince: unset and zero times are <unknown>', () => {
  assert.equal(translateTimestampSince(undefined, NOW), '<unknown>');
  assert.equal(translateTimestampSince(null, NOW), '<unknown>');
  assert.equal(translateTimestampSince('', NOW), '<unknown>');
  assert.equal(translateTimestampSince('0001-01-01T00:00:00Z', NOW), '<unknown>');
  assert.equal(translateTimestampSince('yesterday', NOW), '<unknown>');
});

test('translateTimestampSince reads offsets and fractions', () => {
  assert.equal(translateTimestampSince(ago(3 * MIN + 2 * SEC), NOW), '3m2s');
  assert.equal(translateTimestampSince('2024-05-01T11:59:55.500Z', NOW), '4s');
  assert.equal(translateTimestampSince('2024-05-01T13:00:00+02:00', NOW), '60m');
  // a clock slightly ahead of ours reads as now; far ahead is invalid
  assert.equal(translateTimestampSince('2024-05-01T12:00:01Z', NOW), '0s');
  assert.equal(translateTimestampSince('2024-05-01T12:00:05Z', NOW), '<invalid>');
});

test('parseTimestamp tells unset (null) from malformed (undefined)', () => {
  assert.equal(parseTimestamp(undefined), null);
  assert.equal(parseTimestamp('0001-01-01T00:00:00Z'), null);
  assert.equal(parseTimestamp('2024-05-01 12:00:00'), undefined);
  assert.equal(parseTimestamp(17), undefined);
  assert.equal(parseTimestamp('2024-05-01T12:00:00Z'), NOW.getTime());
});

test('formatRFC3339 is Go time.RFC3339 in UTC, whole seconds', () => {
  assert.equal(formatRFC3339('2024-05-01T11:57:00.123+02:00'), '2024-05-01T09:57:00Z');
  assert.equal(formatRFC3339('2024-05-01T11:57:00Z'), '2024-05-01T11:57:00Z');
  assert.equal(formatRFC3339(undefined), '0001-01-01T00:00:00Z');
});
