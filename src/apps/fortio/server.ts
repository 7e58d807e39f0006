/**
 * `fortio server`: the HTTP echo server (-http-port, 8080), TCP echo (-tcp-port, 8078) and UDP echo
 * (-udp-port, 8078), gRPC health and ping over h2c (-grpc-port, 8079). A port alone, or a wildcard
 * host, binds the pod's app address (env HOST), so two local pods can both serve 8080. The https
 * redirector (-redirect-port) is accepted and not served (see docs/fortio.md).
 */
import { parseDuration } from './duration.js';
import { DEFAULT_ECHO_LIMITS, type EchoLimits } from './echo-params.js';
import { startEchoServer, type RunningServer } from './echo-server.js';
import { FlagError, parseFlags, type FlagKind } from './flags.js';
import { makeLogger, parseLogLevel, type Logger } from './log.js';
import { startGrpcPing } from './grpc-ping.js';
import { startTcpEcho, startUdpEcho } from './socket-echo.js';
import { FORTIO_VERSION } from './version.js';

/** Flags of fortio's server this stand-in accepts; those without an effect here are listed in IGNORED. */
export const SERVER_FLAGS: Readonly<Record<string, FlagKind>> = {
  'http-port': 'value', 'tcp-port': 'value', 'udp-port': 'value', 'grpc-port': 'value', 'redirect-port': 'value',
  'max-echo-delay': 'value', maxpayloadsizekb: 'value', loglevel: 'value', quiet: 'bool',
  'config-dir': 'value', 'data-dir': 'value', 'base-url': 'value', 'ui-path': 'value', 'echo-debug-path': 'value',
  'echo-server-default-params': 'value', 'server-idle-timeout': 'value', 'logcaller': 'bool', 'logprefix': 'value',
};

export interface Bind {
  host: string;
  port: number;
}

const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]']);

/** `8080`, `:8080`, `host:8080`, `[::1]:8080`, or `disabled` (undefined). */
export function parseBind(flag: string, text: string, defaultHost: string): Bind | undefined {
  if (text === 'disabled' || text === 'none') return undefined;
  const colon = text.lastIndexOf(':');
  const hostPart = colon === -1 ? '' : text.slice(0, colon);
  const portText = colon === -1 ? text : text.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new FlagError(`-${flag} ${text}: not a port, host:port or "disabled"`);
  const host = WILDCARDS.has(hostPart) ? defaultHost : hostPart.replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

export interface ServerConfig {
  http?: Bind;
  tcp?: Bind;
  udp?: Bind;
  grpc?: Bind;
  limits: EchoLimits;
  logger: Logger;
  ignored: string[];
}

export function serverConfig(argv: readonly string[], env: NodeJS.ProcessEnv, write: (line: string) => void): ServerConfig {
  const flags = parseFlags(argv, SERVER_FLAGS);
  if (flags.rest.length > 0) throw new FlagError(`fortio server takes no arguments, got: ${flags.rest.join(' ')}`);
  const host = env['HOST'] || '::';
  const bind = (name: string, fallback: string): Bind | undefined => parseBind(name, flags.values.get(name) ?? fallback, host);
  const limits = { ...DEFAULT_ECHO_LIMITS };
  const maxDelay = flags.values.get('max-echo-delay');
  if (maxDelay !== undefined) {
    const ns = parseDuration(maxDelay);
    if (ns === undefined || ns < 0) throw new FlagError(`-max-echo-delay ${maxDelay}: not a duration`);
    limits.maxDelayNs = ns;
  }
  const maxKb = flags.values.get('maxpayloadsizekb');
  if (maxKb !== undefined) {
    if (!/^\d+$/.test(maxKb)) throw new FlagError(`-maxpayloadsizekb ${maxKb}: not a number of KiB`);
    limits.maxPayloadBytes = Number(maxKb) * 1024;
  }
  const level = flags.bools.get('quiet') ? 'Error' : parseLogLevel(flags.values.get('loglevel') ?? 'Info');
  const served = new Set(['http-port', 'tcp-port', 'udp-port', 'grpc-port', 'max-echo-delay', 'maxpayloadsizekb', 'loglevel', 'quiet']);
  const ignored = [...flags.values.keys(), ...flags.bools.keys()].filter((k) => !served.has(k));
  return { http: bind('http-port', '8080'), tcp: bind('tcp-port', '8078'), udp: bind('udp-port', '8078'), grpc: bind('grpc-port', '8079'), limits, logger: makeLogger(level, write), ignored };
}

/**
 * Starts what the config names. A TCP, UDP or gRPC port already in use is reported and skipped; any
 * other failure closes the ones already started and is thrown.
 */
export async function startServers(config: ServerConfig): Promise<RunningServer[]> {
  const started: RunningServer[] = [];
  const show = (b: Bind): string => (b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`);
  try {
    if (config.http) {
      started.push(await startEchoServer({ ...config.http, limits: config.limits, logger: config.logger }));
      config.logger.log('Info', `Fortio ${FORTIO_VERSION} http-echo server listening on tcp ${show({ ...config.http, port: started.at(-1)!.address.port })}`);
    }
    const grpc = (host: string, port: number): Promise<RunningServer> => startGrpcPing(host, port, config.limits.maxDelayNs);
    const others = [['tcp-echo', 'tcp', config.tcp, startTcpEcho], ['udp-echo', 'udp', config.udp, startUdpEcho], ["grpc 'ping'", 'tcp', config.grpc, grpc]] as const;
    for (const [kind, protocol, bind, start] of others) {
      if (!bind) continue;
      try {
        started.push(await start(bind.host, bind.port));
        config.logger.log('Info', `Fortio ${FORTIO_VERSION} ${kind} server listening on ${protocol} ${show({ ...bind, port: started.at(-1)!.address.port })}`);
      } catch (err) {
        // Loopback-mode pods share the host's network: the pod's sidecar may already hold this port on
        // the pod's address for a Service's TCP upstream. The HTTP echo server is what the demos need.
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        config.logger.log('Error', `${kind} server not started: ${show(bind)} is in use (in loopback mode the pod's sidecar may hold it for a Service's TCP port)`);
      }
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  for (const name of config.ignored) config.logger.log('Info', `-${name} has no effect in Tessera's built-in fortio`);
  return started;
}
