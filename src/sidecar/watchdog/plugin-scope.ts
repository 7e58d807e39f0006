/**
 * Which plugin, on which request, the sidecar is running: an async context carried from each call
 * into a plugin through every callback and promise the plugin starts. The watchdog reads it to name
 * what blocked the event loop; the process's error handlers read it to fail the request a plugin's
 * asynchronous throw belongs to. Sidecars without plugins never enter a scope, so they never pay for
 * async context tracking.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface PluginScope {
  readonly plugin: string;
  readonly method: string;
  readonly path: string;
  /** set while the plugin still works on the request: fails it (the chain answers 500) */
  fail: ((err: unknown) => void) | undefined;
}

const scopes = new AsyncLocalStorage<PluginScope>();

export function pluginScope(plugin: string, request: { method: string; path: string }): PluginScope {
  return { plugin, method: request.method, path: request.path, fail: undefined };
}

/** Runs `fn` (a call into plugin code) inside `scope`. */
export function inPluginScope<T>(scope: PluginScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** Runs `fn` (the rest of the chain, called by a plugin) outside any plugin's scope. */
export function outsidePluginScope<T>(fn: () => T): T {
  return scopes.exit(fn);
}

export function currentPluginScope(): PluginScope | undefined {
  return scopes.getStore();
}

/**
 * Waits for a plugin's promise while an asynchronous failure attributed to its scope can still
 * end the wait (a throw in a timer the plugin set, a rejection nobody awaited).
 */
export function settleInScope(scope: PluginScope, work: Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    scope.fail = reject;
    work.then(
      () => {
        scope.fail = undefined;
        resolve();
      },
      (err: unknown) => {
        scope.fail = undefined;
        reject(err);
      },
    );
  });
}

/** `METHOD /path` without the query, which may carry credentials. */
export function describeRequest(scope: PluginScope): string {
  const q = scope.path.indexOf('?');
  return `${scope.method} ${q < 0 ? scope.path : scope.path.slice(0, q)}`;
}
