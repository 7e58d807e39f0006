/**
 * The daemon's side of the injector webhook: POSTs a pod to `<mesh>-injector` and returns the
 * mutated pod. One keep-alive agent, so pod creation does not pay a TCP handshake per pod. Over
 * https the injector's certificate must chain to `ca` (the cluster CA) and name its address before
 * the bearer token is sent: a process that took the address first never sees it.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { MUTATE_PATH, type MutationRequest, type MutationResponse } from '../../injector/protocol.js';

export const WEBHOOK_TIMEOUT_MS = 5_000;
/** Idle sockets are dropped well before the injector's keep-alive timeout (65 s) would close them. */
const IDLE_SOCKET_MS = 30_000;

export interface InjectorClient {
  /** where the webhook is called, for messages */
  readonly url: string;
  /** Resolves with the webhook's answer; rejects with a message fit for a Deployment condition. */
  mutate(req: MutationRequest, signal?: AbortSignal): Promise<MutationResponse>;
  close(): void;
}

export interface InjectorClientOptions {
  /** base URL, e.g. https://127.B.0.3:9090 */
  baseUrl: string;
  token: string;
  /** PEM of the only CA the injector's certificate may chain to; required for https */
  ca?: string;
  timeoutMs?: number;
}

/** A refusal from the webhook itself (it answered, and said no), as opposed to not reaching it. */
export class WebhookDenied extends Error {
  override name = 'WebhookDenied';
}

export function httpInjectorClient(opts: InjectorClientOptions): InjectorClient {
  const url = new URL(MUTATE_PATH, opts.baseUrl);
  const secure = url.protocol === 'https:';
  if (secure && !opts.ca) throw new Error(`injector client: ${opts.baseUrl} needs the CA to verify it`);
  const agentOptions = { keepAlive: true, maxSockets: 8, timeout: IDLE_SOCKET_MS };
  // Only the cluster CA: the system's roots must not vouch for the injector's address.
  const agent = secure ? new HttpsAgent({ ...agentOptions, ca: opts.ca }) : new HttpAgent(agentOptions);
  const request = secure ? httpsRequest : httpRequest;
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;

  const post = (body: Buffer, signal: AbortSignal): Promise<{ status: number; text: string; reused: boolean }> =>
    new Promise((resolve, reject) => {
      const req = request(url, {
        method: 'POST', agent, signal,
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'content-length': body.length },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), reused: req.reusedSocket }));
        res.on('error', reject);
      });
      req.on('error', (err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
        err.reusedSocket = req.reusedSocket;
        reject(err);
      });
      req.end(body);
    });

  return {
    url: url.href,
    async mutate(mutation, signal) {
      const body = Buffer.from(JSON.stringify(mutation));
      const deadline = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
      let answer;
      try {
        answer = await post(body, combined).catch((err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
          // A pooled socket the injector closed (it restarted) fails at once; the call is side-effect free, so retry once.
          if (err.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return post(body, combined);
          throw err;
        });
      } catch (err) {
        if (deadline.aborted) throw new Error(`Post "${url.href}": no answer within ${timeoutMs / 1000}s`);
        throw new Error(`Post "${url.href}": ${(err as Error).message}`);
      }
      return parseAnswer(answer.status, answer.text);
    },
    close: () => agent.destroy(),
  };
}

function parseAnswer(status: number, text: string): MutationResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WebhookDenied(`HTTP ${status}: ${text.slice(0, 200)}`);
  }
  if (status !== 200) throw new WebhookDenied((body as { error?: { message?: string } }).error?.message ?? `HTTP ${status}`);
  const answer = body as Partial<MutationResponse>;
  if (answer.pod?.kind !== 'Pod' || typeof answer.injected !== 'boolean') throw new WebhookDenied('the webhook answered without {pod, injected}');
  return answer as MutationResponse;
}
