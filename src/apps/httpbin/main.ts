/** Process entry for the httpbin stand-in: binds, prints gunicorn's startup lines, logs requests, exits on signals. */

import { resolveBindAddress } from './bind-options.js';
import { gunicornLogLine } from './gunicorn-log.js';
import { startHttpbin } from './index.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<void> {
  const { host, port } = resolveBindAddress(process.argv.slice(2), process.env);
  print(gunicornLogLine('Starting gunicorn 19.9.0'));
  const server = await startHttpbin({ host, port, log: print });
  // Report the bound port, which differs from the requested one only for port 0.
  const shownHost = host.includes(':') ? `[${host}]` : host;
  print(gunicornLogLine(`Listening at: http://${shownHost}:${server.address.port} (${process.pid})`));
  print(gunicornLogLine('Using worker: gevent'));
  print(gunicornLogLine(`Booting worker with pid: ${process.pid}`));

  const stop = (signal: 'SIGTERM' | 'SIGINT'): void => {
    print(gunicornLogLine(`Handling signal: ${signal === 'SIGTERM' ? 'term' : 'int'}`));
    server.close().then(
      () => {
        print(gunicornLogLine('Shutting down: Master'));
        process.exit(0);
      },
      (err: unknown) => {
        print(gunicornLogLine(`Error while shutting down: ${String(err)}`, 'ERROR'));
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  // gunicorn's wording when the bind fails, e.g. the port is taken.
  print(gunicornLogLine(`Connection in use or unavailable: ${String(err)}`, 'ERROR'));
  process.exit(1);
});
