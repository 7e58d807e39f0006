/** Where the httpbin process listens: env HOST/PORT, overridden by a gunicorn-style `-b`/`--bind`. */

export interface BindAddress {
  host: string;
  port: number;
}

const DEFAULT_HOST = '0.0.0.0';
const DEFAULT_PORT = 80;

/**
 * Pods keep the image's command line, e.g. `gunicorn -b 0.0.0.0:14001 httpbin:app -k gevent`,
 * so the bind flag wins over PORT. Unrelated arguments are ignored; a bind without a host
 * (`-b :8000`) keeps HOST.
 */
export function resolveBindAddress(argv: readonly string[], env: NodeJS.ProcessEnv): BindAddress {
  let host = env.HOST || DEFAULT_HOST;
  let port = parsePort(env.PORT) ?? DEFAULT_PORT;
  const bind = findBind(argv);
  if (bind !== undefined) {
    const colon = bind.lastIndexOf(':');
    const bindHost = colon === -1 ? bind : bind.slice(0, colon);
    const bindPort = colon === -1 ? undefined : parsePort(bind.slice(colon + 1));
    if (bindHost !== '') host = bindHost.replace(/^\[(.*)\]$/, '$1'); // [::1] -> ::1
    if (bindPort !== undefined) port = bindPort;
  }
  return { host, port };
}

function findBind(argv: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-b' || arg === '--bind') found = argv[++i];
    else if (arg.startsWith('--bind=')) found = arg.slice('--bind='.length);
    else if (arg.startsWith('-b') && arg.length > 2) found = arg.slice(2);
  }
  return found;
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}
