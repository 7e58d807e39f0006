/** Loads an inline script into a codebase with an in-memory host, for filter unit tests. */
import { Codebase } from '../codebase.js';
import { Context } from '../context.js';
import { Message, type Output } from '../message.js';
import type { PipyModule } from '../module.js';
import type { HttpTransport, Link, PipyHost } from '../runtime-types.js';
import { compileScript } from '../script.js';

export interface Loaded {
  cb: Codebase;
  m: PipyModule;
  logs: string[];
  run(msg: Message, opts?: { ctx?: Context; rest?: Link | null }): Promise<Output>;
}

let n = 0;

export function load(source: string, host: Partial<PipyHost> = {}): Loaded {
  const logs: string[] = [];
  const transport: HttpTransport = host.transport ?? { request: () => Promise.resolve(new Message({ status: 200 }, 'ok')) };
  const cb = new Codebase({ log: (level, message) => void logs.push(`${level} ${message}`), transport, idleTimeoutMs: 2000, ...host });
  const file = `plugins/unit-${++n}.js`;
  const m = cb.load(file, compileScript(file, source));
  cb.bind();
  return {
    cb,
    m,
    logs,
    run: async (msg, opts = {}) => cb.runEntry(m, msg, opts.ctx ?? new Context(), opts.rest === undefined ? echo : opts.rest),
  };
}

/** A "rest of the chain" that answers 200 with the request's path and headers. */
export const echo: Link = {
  call: (msg) => new Message({ status: 200, headers: { 'x-path': msg.head?.path } }, JSON.stringify(msg.head?.headers ?? {})),
};

export function req(path = '/', headers: Record<string, unknown> = {}, body = ''): Message {
  return new Message({ protocol: 'HTTP/1.1', headers, headerNames: {}, method: 'GET', scheme: undefined, authority: undefined, path }, body);
}
