/** Types shared by the layouts, the filters and the hosts that embed the runtime. */
import type { Context } from './context.js';
import type { Message, Output } from './message.js';
import type { PipyModule } from './module.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** An HTTP client for muxHTTP + connect: one request message in, one response message out. */
export interface HttpTransport {
  /**
   * Sends `msg` to `target` (`host:port`). Never rejects: failures before a response head come
   * back as synthesised responses (502, or 504 for timeouts), as Pipy's muxHTTP does.
   */
  request(target: string, msg: Message, run: Run): Promise<Message>;
}

/** What the embedding program (sidecar or standalone) provides to a codebase. */
export interface PipyHost {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  transport: HttpTransport;
  /** how long a request may sit in a wait or a branch with nothing to do before it is dropped */
  idleTimeoutMs: number;
  /** what scripts read as `os.env`; none given: empty */
  env?: Readonly<Record<string, string>>;
  /** `pipy.solve(file)`: the value of a solved file (FSM's `config.js`) */
  solve?(file: string): unknown;
  /** a module that is not a script (the sidecar's `modules/*.js`) as a chain element */
  chainModule?(path: string, next: Link | null): Link | undefined;
}

/** One running pipeline instance: its context, the rest of the chain list, its module. */
export interface Run {
  readonly ctx: Context;
  /** "the rest of the list" `chain()` continues with; null at the end (pass-through) */
  readonly rest: Link | null;
  readonly module: PipyModule;
  readonly host: PipyHost;
}

/** An element of a chain list. */
export interface Link {
  call(msg: Message, run: Run): Output | Promise<Output>;
}

/** A filter in the whole-message model; it only ever sees Messages (StreamEnd and nothing pass by). */
export type Filter = (msg: Message, run: Run) => Output | Promise<Output>;
