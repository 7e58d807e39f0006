/**
 * muxHTTP().to($ => $.connect(target)): the HTTP client. The message goes to `target` (`host:port`,
 * or a function evaluated when the message arrives) through the host's transport; the response
 * comes out. Errors before a response head come back as synthesised 502/504 responses.
 */
import { invoke } from '../context.js';
import type { FilterSpec } from '../configuration.js';
import { PipyLoadError } from '../errors.js';
import { fail, type Layout } from '../layout.js';
import type { Message, Output } from '../message.js';
import type { Filter, Run } from '../runtime-types.js';
import type { Binder } from './binder.js';

export function muxHTTP(spec: FilterSpec, b: Binder): Filter {
  const layout: Layout = b.layout(spec.to, 'muxHTTP');
  const connect = connectTarget(layout);
  const send = (msg: Message, run: Run): Promise<Output> => {
    let target: unknown;
    try {
      target = typeof connect === 'function' ? invoke(run.ctx, connect as () => unknown) : connect;
    } catch (err) {
      return Promise.resolve(fail(run, err, 'connect'));
    }
    return run.host.transport.request(String(target), msg, run).then((res) => {
      // an async completion: re-check the request's waits
      run.ctx.group.poke();
      return res;
    });
  };
  return (msg, run) => {
    if (layout.starts.length > 0) for (const s of layout.starts) if (typeof s === 'function') invoke(run.ctx, s as () => unknown);
    return send(msg, run);
  };
}

/** The muxHTTP session layout must be exactly one connect(); its target is all we need. */
function connectTarget(layout: Layout): unknown {
  const target = layout.connectTarget;
  if (layout.filters.length !== 1 || target === undefined) {
    throw new PipyLoadError('muxHTTP().to(...) must contain exactly one connect(target)');
  }
  return target;
}
