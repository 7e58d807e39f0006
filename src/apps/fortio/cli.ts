/** `fortio SUBCOMMAND …`: server, load, curl, version; the exit code is returned, output goes to `io`. */
import { availableParallelism } from 'node:os';
import { parseClientOptions, proxyFor, type ClientOptions } from './client-options.js';
import { FlagError } from './flags.js';
import { FortioConnection, requestHeaders } from './http-call.js';
import { runLoad } from './load-runner.js';
import { makeLogger, FortioLogError } from './log.js';
import { bannerLines, summaryLines } from './report.js';
import { serverConfig, startServers } from './server.js';
import { FORTIO_VERSION, USER_AGENT } from './version.js';

export interface FortioIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** aborted on SIGINT/SIGTERM: ends a load run early, stops the server */
  signal: AbortSignal;
}

const USAGE = `Φορτίο ${FORTIO_VERSION} usage (Tessera built-in):
  fortio command [flags] target
where command is one of: load (load testing), server (echo servers), curl (single URL debug), version.
`;

export async function runFortio(argv: readonly string[], io: FortioIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'server':
        return await server(rest, io);
      case 'load':
        return await load(rest, io);
      case 'curl':
        return await curl(rest, io);
      case 'version':
        io.stdout(`${FORTIO_VERSION} tessera-builtin ${process.version} ${process.arch} ${process.platform}\n`);
        return 0;
      case 'help':
      case '-h':
      case '--help':
        io.stdout(USAGE);
        return 0;
      default:
        io.stderr(USAGE);
        if (command !== undefined) io.stderr(`fortio: unknown command "${command}"\n`);
        return 1;
    }
  } catch (err) {
    if (err instanceof FlagError || err instanceof FortioLogError) {
      io.stderr(`fortio ${command ?? ''}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function server(argv: readonly string[], io: FortioIo): Promise<number> {
  const config = serverConfig(argv, io.env, io.stderr);
  const servers = await startServers(config);
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.all(servers.map((s) => s.close()));
  return 0;
}

function target(o: ClientOptions, env: NodeJS.ProcessEnv) {
  const proxy = proxyFor(o.url, env);
  return {
    url: o.url,
    ...(proxy ? { proxy } : {}),
    headers: requestHeaders(o.url, o.headers, o.payload ? (o.contentType ?? 'application/octet-stream') : o.contentType, USER_AGENT),
    ...(o.payload ? { payload: o.payload } : {}),
    timeoutMs: o.timeoutMs,
  };
}

async function load(argv: readonly string[], io: FortioIo): Promise<number> {
  const o = parseClientOptions('load', argv);
  const logger = makeLogger(o.logLevel, io.stderr);
  for (const note of o.notes) logger.log('Warning', note);
  const procs = availableParallelism();
  const description = { url: o.url.href, qps: o.qps, threads: o.threads, calls: o.calls, durationNs: o.durationNs, procs };
  if (!o.quiet) io.stdout(`${bannerLines(description).join('\n')}\n`);
  const result = await runLoad({
    target: target(o, io.env), threads: o.threads, qps: o.qps, calls: o.calls, durationNs: o.durationNs,
    warmup: o.calls === 0, logger, signal: io.signal,
  });
  io.stdout(`${summaryLines(result, o.threads, { quiet: o.quiet, sizes: logger.enabled('Warning') }).join('\n')}\n`);
  return 0;
}

async function curl(argv: readonly string[], io: FortioIo): Promise<number> {
  const o = parseClientOptions('curl', argv);
  const logger = makeLogger(o.logLevel, io.stderr);
  const connection = new FortioConnection(target(o, io.env), { keepBody: true });
  try {
    const r = await connection.call();
    if (r.code === -1) {
      logger.log('Error', `Unable to connect or read from ${o.url.href}: ${r.error ?? 'no response'}`);
      return 1;
    }
    io.stdout(r.raw!.toString('utf8'));
    if (r.code !== 200) {
      logger.log('Error', `Error status ${r.code} ${r.statusLine}`);
      return 1;
    }
    return 0;
  } finally {
    connection.close();
  }
}
