/**
 * Kept-alive connections into pods' network namespaces for the API server's pods/proxy. A new
 * connection there is a child process under nsenter (`dialInPod`), and starting it was most of a
 * `tessera proxy get config_dump`; the next GET to the same pod and port reuses it.
 *
 * A connection serves only the pod it was opened for: the pool is keyed by the pod's uid, so a pod
 * that takes over a deleted pod's IP never gets the old one's connection. An idle connection closes
 * after IDLE_MS, before a Node server's default keep-alive timeout (5 s, the sidecar admin
 * server's), so a request rarely meets a connection the far side is closing; when one does, the
 * caller retries once on a new connection (`isStaleReuse`).
 */
import { Agent, type ClientRequest, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';

const IDLE_MS = 4_000;
/** a few kept per pod and port: `proxy get` runs one request at a time */
const MAX_IDLE_PER_TARGET = 2;

export type Dial = () => Promise<Duplex>;

class DialAgent extends Agent {
  readonly #dial: Dial;
  readonly #idle = new Map<Duplex, NodeJS.Timeout>();
  readonly #onEmpty: () => void;

  constructor(dial: Dial, onEmpty: () => void) {
    super({ keepAlive: true, maxFreeSockets: MAX_IDLE_PER_TARGET });
    this.#dial = dial;
    this.#onEmpty = onEmpty;
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    this.#dial().then(
      (stream) => {
        // the child ends its output when the far side closes: such a stream must not be reused
        stream.once('end', () => stream.destroy());
        stream.once('close', () => {
          clearTimeout(this.#idle.get(stream));
          this.#idle.delete(stream);
          // the agent forgets the stream in its own 'close' listener, added after this one
          setImmediate(() => {
            if (this.#empty()) this.#onEmpty();
          });
        });
        callback?.(null, stream);
      },
      (e: Error) => callback?.(e, undefined as unknown as Duplex),
    );
    return undefined;
  }

  override keepSocketAlive(stream: Duplex): boolean {
    const timer = setTimeout(() => stream.destroy(), IDLE_MS);
    timer.unref();
    this.#idle.set(stream, timer);
    return true;
  }

  override reuseSocket(stream: Duplex, request: ClientRequest): void {
    clearTimeout(this.#idle.get(stream));
    this.#idle.delete(stream);
    super.reuseSocket(stream, request);
  }

  #empty(): boolean {
    const none = (m: NodeJS.ReadOnlyDict<unknown[]>): boolean => Object.values(m).every((l) => !l || l.length === 0);
    return none(this.sockets) && none(this.freeSockets) && none(this.requests);
  }
}

export class PodDialPool {
  readonly #agents = new Map<string, DialAgent>();

  /** The agent for one pod (by uid) and target; `dial` opens a new connection when none is idle. */
  agentFor(podUid: string, host: string, port: number, dial: Dial): Agent {
    const key = `${podUid}/${host}:${port}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      const created = new DialAgent(dial, () => {
        if (this.#agents.get(key) === created) this.#agents.delete(key);
      });
      agent = created;
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /** how many pods and targets have an agent (for tests) */
  get size(): number {
    return this.#agents.size;
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}

/** A request that failed on a reused connection before any answer: the far side closed it while idle. */
export function isStaleReuse(request: ClientRequest, answered: boolean, err: NodeJS.ErrnoException): boolean {
  return request.reusedSocket && !answered && (err.code === 'ECONNRESET' || err.message === 'socket hang up');
}
