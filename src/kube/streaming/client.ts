/**
 * Client side of exec over WebSocket (v5, falling back to v4), for the project's own CLI: the
 * counterpart of `acceptExec`, and equally able to talk to a real API server.
 */
import type { Readable, Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { ExecClientError } from './errors.js';
import { Channel } from './protocols.js';
import { decodeResultStatus } from './status.js';
import { channelWriter, wsCodec } from './websocket.js';

export interface ExecClientOptions {
  /** The exec URL with its query (`https://host/api/v1/namespaces/NS/pods/P/exec?command=…&stdout=true…`); http(s) or ws(s). */
  url: string;
  /** Trusted CA(s) for the server certificate; without it the system store is used. Verification is never skipped. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Sends the terminal size (and its changes) when `stdout` is a TTY. */
  tty?: boolean;
  /** Subprotocols to offer, best first. */
  protocols?: readonly string[];
}

function wsUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol === 'http:') u.protocol = 'ws:';
  return u.toString();
}

function readBody(res: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    res.on('error', () => resolve(Buffer.concat(chunks).toString()));
  });
}

/** Runs the remote command; resolves with its exit code, rejects with `ExecClientError` when the session itself failed. */
export function execClient(opts: ExecClientOptions): Promise<number> {
  const headers: Record<string, string> = {};
  if (opts.token) headers['Authorization'] = `Bearer ${opts.token}`;
  const ws = new WebSocket(wsUrl(opts.url), [...(opts.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'])], {
    headers,
    perMessageDeflate: false,
    ...(opts.ca ? { ca: opts.ca } : {}),
    ...(opts.cert ? { cert: opts.cert } : {}),
    ...(opts.key ? { key: opts.key } : {}),
  });

  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (err: ExecClientError): void => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(err);
    };
    const errorChunks: Buffer[] = [];
    let stdinDetach: (() => void) | undefined;

    ws.on('unexpected-response', (_req, res) => {
      void readBody(res).then((body) => {
        let message = `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
        try {
          const s = JSON.parse(body) as { message?: string };
          if (s.message) message = s.message;
        } catch {
          if (body) message += `: ${body.slice(0, 500)}`;
        }
        fail(new ExecClientError(message, res.statusCode === undefined ? {} : { httpStatus: res.statusCode }));
      });
    });
    ws.on('error', (err) => fail(new ExecClientError(`exec connection failed: ${err.message}`, { cause: err })));

    ws.on('open', () => {
      const codec = wsCodec(ws.protocol);
      if (!ws.protocol) return fail(new ExecClientError('the server negotiated no remote-command subprotocol'));
      if (opts.stdin) {
        // The close signal (v5) is how the remote command learns its input ended; v4 cannot say so.
        const remoteStdin = channelWriter(ws, codec, Channel.stdin);
        opts.stdin.pipe(remoteStdin);
        stdinDetach = () => opts.stdin?.unpipe(remoteStdin);
      }
      const out = opts.stdout as Writable & { columns?: number; rows?: number; isTTY?: boolean };
      if (opts.tty && out.isTTY) {
        const sendSize = (): void => {
          if (ws.readyState === ws.OPEN) ws.send(codec.encode(Channel.resize, Buffer.from(JSON.stringify({ Width: out.columns, Height: out.rows }))));
        };
        sendSize();
        out.on('resize', sendSize);
        ws.once('close', () => out.off('resize', sendSize));
      }
      ws.on('message', (data, isBinary) => {
        const msg = codec.decode(data, isBinary);
        if (!msg || msg.payload.length === 0) return;
        const target = msg.channel === Channel.stdout ? opts.stdout : msg.channel === Channel.stderr ? opts.stderr : undefined;
        if (target) {
          if (!target.write(msg.payload)) {
            ws.pause();
            target.once('drain', () => ws.resume());
          }
        } else if (msg.channel === Channel.error) errorChunks.push(msg.payload);
      });
    });

    ws.on('close', (code, reason) => {
      stdinDetach?.();
      if (settled) return;
      const raw = Buffer.concat(errorChunks).toString();
      if (code !== 1000 && raw.length === 0) {
        return fail(new ExecClientError(`exec connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''}) before the command's result arrived`));
      }
      const result = decodeResultStatus(raw);
      settled = true;
      if ('error' in result) reject(new ExecClientError(result.error));
      else resolve(result.exitCode);
    });
  });
}
