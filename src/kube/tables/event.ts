/**
 * The Event table. Its first column is LAST SEEN, not NAME: the name is a priority-1 column at
 * the end. events.k8s.io/v1 Events are the same stored object under other field names.
 */
import { column } from './columns.js';
import { DOC } from './descriptions.js';
import { parseTimestamp, translateTimestampSince } from './duration.js';
import { type Obj, isObj, obj, str, num } from './values.js';
import type { Printer, PrintedRow } from './types.js';

/** core/v1 field names for an events.k8s.io/v1 Event. */
export function fromEventsV1(event: Obj): Obj {
  return {
    metadata: event['metadata'],
    involvedObject: event['regarding'],
    reason: event['reason'],
    message: event['note'],
    source: event['deprecatedSource'],
    firstTimestamp: event['deprecatedFirstTimestamp'],
    lastTimestamp: event['deprecatedLastTimestamp'],
    count: event['deprecatedCount'],
    type: event['type'],
    eventTime: event['eventTime'],
    series: event['series'],
    reportingComponent: event['reportingController'],
    reportingInstance: event['reportingInstance'],
  };
}

function formatSource(event: Obj): string {
  const source = obj(event, 'source');
  const component = str(source, 'component') || str(event, 'reportingComponent');
  const instance = str(source, 'host') || str(event, 'reportingInstance');
  return instance === '' ? component : `${component}, ${instance}`;
}

/** Go's `!t.IsZero()` for a timestamp field. */
const isSet = (v: unknown): boolean => typeof parseTimestamp(v) === 'number';

export function printEvent(event: Obj, now: Date): PrintedRow {
  const involved = obj(event, 'involvedObject');
  const firstSeen = isSet(event['firstTimestamp'])
    ? translateTimestampSince(event['firstTimestamp'], now)
    : translateTimestampSince(event['eventTime'], now);
  let lastSeen = isSet(event['lastTimestamp']) ? translateTimestampSince(event['lastTimestamp'], now) : firstSeen;
  let count = num(event, 'count');
  if (isObj(event['series'])) {
    lastSeen = translateTimestampSince(obj(event, 'series')['lastObservedTime'], now);
    count = num(obj(event, 'series'), 'count');
  } else if (count === 0) {
    // singleton events of the new API carry no count
    count = 1;
  }
  const kind = str(involved, 'kind').toLowerCase();
  const target = str(involved, 'name') !== '' ? `${kind}/${str(involved, 'name')}` : kind;
  return {
    cells: [
      lastSeen,
      str(event, 'type'),
      str(event, 'reason'),
      target,
      str(involved, 'fieldPath'),
      formatSource(event),
      str(event, 'message').trim(),
      firstSeen,
      count,
      str(obj(event, 'metadata'), 'name'),
    ],
  };
}

export const eventPrinter: Printer = {
  columns: [
    column('Last Seen', 'string', DOC.eventLastTimestamp),
    column('Type', 'string', DOC.eventType),
    column('Reason', 'string', DOC.eventReason),
    column('Object', 'string', DOC.eventInvolvedObject),
    column('Subobject', 'string', DOC.fieldPath, 1),
    column('Source', 'string', DOC.eventSource, 1),
    column('Message', 'string', DOC.eventMessage),
    column('First Seen', 'string', DOC.eventFirstTimestamp, 1),
    column('Count', 'string', DOC.eventCount, 1),
    column('Name', 'string', DOC.name, 1, 'name'),
  ],
  row: printEvent,
};

export const eventsV1Printer: Printer = {
  columns: eventPrinter.columns,
  row: (event, now) => printEvent(fromEventsV1(event), now),
};
