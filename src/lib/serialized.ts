/**
 * Runs an async pass one at a time: a call during a pass asks for exactly one more pass after it,
 * however many calls arrive (recomputing from current state makes the intermediate ones moot).
 */
export function serialized(pass: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return function run(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
}
