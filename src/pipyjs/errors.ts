/** Errors of the PipyJS runtime: load-time (a module that cannot be loaded or bound). */
export class PipyLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipyLoadError';
  }
}
