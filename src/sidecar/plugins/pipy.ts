/**
 * A PipyJS plugin (`spec.pipyscript`) as a chain module. Per request: a fresh context with the
 * routing exports set from ctx, the request as a Message, the plugin's entry pipeline run with
 * `chain()` meaning "the rest of this sidecar chain" (next(), then ctx.response as a Message),
 * and its output written back as ctx.response. A script error aborts the request the way Pipy
 * does — the client gets an empty reply — and is logged with the plugin's name; the sidecar and
 * other requests carry on. Layouts are bound once per snapshot (see pipy-codebase.ts).
 */
import { Context, Message, StreamEnd, discard, isThenable, type Link, type Output, type Run } from '../../pipyjs/index.js';
import type { PluginScript } from '../../snapshot/types.js';
import type { HttpContext, HttpModule, HttpResponse, Next } from '../chain/types.js';
import type { ModuleEnv } from '../modules/env.js';
import type { Body } from '../http/types.js';
import { abortedResponse, applyRequest, requestMessage, responseMessage, toHttpResponse } from './pipy-bridge.js';
import { sidecarCodebase, type SidecarCodebase } from './pipy-codebase.js';
import { inPluginScope, outsidePluginScope, pluginScope } from '../watchdog/index.js';

export function pipyPluginModule(name: string, script: PluginScript, env: ModuleEnv): HttpModule {
  const cb = sidecarCodebase(env);
  const plugin = cb.plugin(name, script);
  const idleMs = Math.max(1, env.snapshot.Spec.SidecarTimeout || 60) * 1000;
  return async function pipyPlugin(ctx: HttpContext, next: Next): Promise<void> {
    const pctx = new Context();
    cb.setRouting(pctx, ctx);
    const req = requestMessage(ctx);
    const rest = new RestOfChain(cb, ctx, next, req);
    let out: Output;
    try {
      // in the plugin's scope, so a script that never returns is named by the watchdog
      const r = inPluginScope(pluginScope(name, ctx.request), () => cb.codebase.runEntry(plugin, req, pctx, rest));
      out = isThenable(r) ? await r : r;
    } catch (err) {
      env.log.error('plugin failed', { plugin: name, error: (err as Error).stack ?? String(err) });
      out = new StreamEnd('RuntimeError');
    }
    if (out === null) {
      // Nothing came out: Pipy leaves the client waiting until the sidecar's idle timeout closes it.
      env.log.warn('plugin produced no response; closing after the idle timeout', { plugin: name });
      await new Promise((r) => setTimeout(r, idleMs));
      out = new StreamEnd('IdleTimeout');
    }
    if (out instanceof StreamEnd) {
      rest.drop();
      ctx.response = abortedResponse();
      return;
    }
    ctx.response = toHttpResponse(out, rest.response);
    if (rest.response && rest.response.msg !== out) rest.drop();
  };
}

/** `chain()` at the end of the plugin's list: the rest of the sidecar chain. */
class RestOfChain implements Link {
  response: { msg: Message; res: HttpResponse } | undefined;
  #called = false;
  readonly #originalBody: Body;

  constructor(
    private readonly cb: SidecarCodebase,
    private readonly ctx: HttpContext,
    private readonly next: Next,
    private readonly original: Message,
  ) {
    this.#originalBody = ctx.request.body;
  }

  async call(msg: Message, run: Run): Promise<Output> {
    const ctx = this.ctx;
    if (this.#called) {
      run.host.log('error', `${run.module.filename}: chain() reached the rest of the sidecar chain twice for one request`, { module: run.module.filename });
      return new StreamEnd('RuntimeError');
    }
    this.#called = true;
    applyRequest(ctx, msg, this.original, this.#originalBody);
    // a script that rewrote __cluster sends the request there
    const slots = run.ctx.slots(this.cb.routing[ctx.direction]);
    const cluster = slots['__cluster'];
    if (ctx.cluster === undefined ? cluster !== null : cluster !== this.cb.fsmCluster(ctx.cluster, ctx.direction)) {
      const routed = this.cb.routedCluster(cluster);
      if (routed) ctx.cluster = routed;
      else ctx.cluster = undefined;
    }
    await outsidePluginScope(this.next);
    const res = ctx.response;
    if (!res) return new StreamEnd('ConnectionReset');
    const m = responseMessage(res);
    this.response = { msg: m, res };
    return m;
  }

  /** The chain's response was not used: drain its body so its upstream connection is freed. */
  drop(): void {
    if (this.response) discard(this.response.msg);
  }
}
