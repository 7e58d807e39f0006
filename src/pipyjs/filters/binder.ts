/** What a filter builder gets at bind time: its module, layout and chain resolution. */
import type { LayoutRef } from '../configuration.js';
import type { Layout } from '../layout.js';
import { Message, MessageStart, StreamEnd, type Output } from '../message.js';
import type { PipyModule } from '../module.js';
import type { Link } from '../runtime-types.js';

export interface Binder {
  readonly module: PipyModule;
  /** a sub-layout (built function or the name of a pipeline in the same module) */
  layout(ref: LayoutRef | undefined, where: string): Layout;
  /** a new chain list from `chain([paths])` */
  chainList(paths: unknown): Link | null;
}

/** What a replaceMessage/replaceMessageStart result becomes downstream. */
export function toOutput(value: unknown, keepBodyOf?: Message): Output {
  if (value === undefined || value === null) return null;
  if (value instanceof Message || value instanceof StreamEnd) return value;
  if (value instanceof MessageStart) return keepBodyOf ? withHead(keepBodyOf, value.head) : new Message(value.head);
  if (Array.isArray(value)) {
    for (const v of value) {
      const o = toOutput(v, keepBodyOf);
      if (o !== null) return o;
    }
    return null;
  }
  throw new TypeError(`cannot output ${typeof value}: expected a Message, an Event or an array of them`);
}

/** `msg`'s body under a new head (replaceMessageStart keeps Data and MessageEnd). */
export function withHead(msg: Message, head: unknown): Message {
  const m = msg.clone();
  return Object.is(m.head, head) ? m : rehead(m, head);
}

function rehead(m: Message, head: unknown): Message {
  if (m.pending) {
    const src = m.source!;
    return Message.lazy(head, src);
  }
  return new Message(head, m.body, m.tail);
}
