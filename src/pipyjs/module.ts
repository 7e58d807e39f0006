/**
 * One loaded PipyJS module: its declared context variables, imports and exports, which the scope
 * its script runs under answers for (Membrane.scopeView). Free identifiers that name a variable of
 * the module (or an import, `__filename`, `__inbound`) resolve through the scope to the *current*
 * context's slots, which is how closures created once at load time act on whichever request is
 * running them.
 */
import { currentContext, type Context, type SlotOwner } from './context.js';
import type { Configuration } from './configuration.js';
import { PipyLoadError } from './errors.js';

interface ImportBinding {
  owner: PipyModule;
  name: string;
}

export class PipyModule implements SlotOwner {
  /** variable name → initial value (context variables and exported variables) */
  readonly initial: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  readonly imports = new Map<string, ImportBinding>();
  /** names the scope answers for */
  readonly names = new Set<string>(['__filename', '__inbound']);
  config: Configuration | undefined;

  constructor(
    readonly id: number,
    /** normalised with a leading slash: `/plugins/token-injector.js` */
    readonly filename: string,
  ) {}

  makeSlots(): Record<string, unknown> {
    // Shallow: an object initial value is one instance shared by every context, as in Pipy.
    return { ...this.initial };
  }

  declare(name: string, init: unknown): void {
    if (this.imports.has(name)) throw new PipyLoadError(`${this.filename}: ${name} is both declared and imported`);
    this.initial[name] = init;
    this.names.add(name);
  }

  addImport(name: string, owner: PipyModule, sourceName: string): void {
    this.imports.set(name, { owner, name: sourceName });
    this.names.add(name);
  }

  read(name: string): unknown {
    if (name === '__filename') return this.filename;
    const ctx = currentContext();
    if (name === '__inbound') return ctx?.inbound;
    const imp = this.imports.get(name);
    if (imp) return ctx ? ctx.slots(imp.owner)[imp.name] : imp.owner.initial[imp.name];
    return ctx ? ctx.slots(this)[name] : this.initial[name];
  }

  write(name: string, value: unknown): void {
    if (name === '__filename' || name === '__inbound') return;
    const ctx = currentContext();
    const imp = this.imports.get(name);
    // Outside any context (while the module loads) a write changes the initial value.
    if (imp) {
      if (ctx) ctx.slots(imp.owner)[imp.name] = value;
      else imp.owner.initial[imp.name] = value;
      return;
    }
    if (ctx) ctx.slots(this)[name] = value;
    else this.initial[name] = value;
  }

  /** This module's slots in `ctx` (for hosts that set exported variables per request). */
  slotsIn(ctx: Context): Record<string, unknown> {
    return ctx.slots(this);
  }
}
