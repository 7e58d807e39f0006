/** Process entry for Tessera's built-in fortio: `node main.js server|load|curl|version …`. */
import { runFortio } from './index.js';

const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());

runFortio(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  signal: stop.signal,
}).then(
  (code) => {
    process.exitCode = code;
    // a finished run leaves nothing to wait for; the signal handlers alone must not keep it alive
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
  },
  (err: unknown) => {
    process.stderr.write(`fortio: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
