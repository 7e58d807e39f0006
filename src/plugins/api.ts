/**
 * The native plugin API: what a Plugin's `spec.script` (TypeScript or JavaScript) is written
 * against. A script's default export is a `NativePlugin`, usually built with `definePlugin`:
 *
 * @example
 * ```ts
 * import { definePlugin } from 'tessera/plugin';
 * interface Config { AccessToken?: string }
 * export default definePlugin<Config>({
 *   onRequest(ctx) {
 *     if (ctx.config?.AccessToken) ctx.request.headers.set('x-iam-token', ctx.config.AccessToken);
 *   },
 * });
 * ```
 *
 * The sidecar runs `onRequest` where the plugin sits in its chain (by priority), then the rest of
 * the chain, then `onResponse` on the way back. `handle(ctx, next)` gives full control instead.
 * A plugin that throws fails only that request (500) and is logged with its name.
 * Plugins never see Node's request objects, so the HTTP engine below them can change.
 */

/** Header access by case-insensitive name. Multi-valued headers read as one comma-joined value. */
export interface PluginHeaders {
  get(name: string): string | undefined;
  has(name: string): boolean;
  set(name: string, value: string): void;
  delete(name: string): void;
  /** lower-case name and value pairs */
  entries(): [string, string][];
}

export interface PluginBody {
  /** Buffers the whole body (once) and returns it; streaming stops for this message. */
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export interface PluginRequest extends PluginBody {
  readonly method: string;
  /** the request-target's path and query, e.g. `/get?x=1` */
  readonly path: string;
  /** the Host the client addressed, e.g. `httpbin.httpbin:14001` */
  readonly authority: string;
  readonly headers: PluginHeaders;
}

export interface PluginResponse extends PluginBody {
  status: number;
  readonly headers: PluginHeaders;
}

export interface PluginFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** default 5000 */
  timeoutMs?: number;
}

export interface PluginFetchResponse {
  readonly status: number;
  readonly headers: PluginHeaders;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/** Where the request is going: the mesh service it was routed to. */
export interface PluginService {
  /** `svc.ns` */
  readonly name: string;
  readonly namespace: string;
}

export interface PluginContext<Config = unknown> {
  /** this plugin's name */
  readonly plugin: string;
  /** this plugin's PluginConfig `spec.config` for the destination service, or undefined */
  readonly config: Config | undefined;
  /** `inbound` on the destination's sidecar, `outbound` on the caller's */
  readonly direction: 'inbound' | 'outbound';
  readonly service: PluginService | undefined;
  /** the downstream peer; `identity` is set only from a verified certificate */
  readonly source: { readonly address: string; readonly identity: string | undefined };
  readonly request: PluginRequest;
  /** set once the rest of the chain has produced a response (in `onResponse`, or after `next()`) */
  readonly response: PluginResponse | undefined;
  /** Answers the request now; the rest of the chain does not run. Objects are sent as JSON. */
  respond(status: number, body?: string | Uint8Array | object, headers?: Record<string, string>): void;
  /**
   * An HTTP call from this sidecar, resolved like cluster DNS (`http://ext-auth.auth:8079/check`
   * reaches that service's endpoints). Only mesh-internal names and loopback addresses are reachable.
   */
  fetch(url: string, init?: PluginFetchInit): Promise<PluginFetchResponse>;
  /** a line in the sidecar's log, prefixed with the plugin's name */
  log(message: string): void;
}

export interface NativePlugin<Config = unknown> {
  onRequest?(ctx: PluginContext<Config>): void | Promise<void>;
  onResponse?(ctx: PluginContext<Config>): void | Promise<void>;
  handle?(ctx: PluginContext<Config>, next: () => Promise<void>): void | Promise<void>;
}

/** Identity function that gives a plugin object its types. */
export function definePlugin<Config = unknown>(plugin: NativePlugin<Config>): NativePlugin<Config> {
  return plugin;
}
