/**
 * How a client reaches the local API server: HTTPS, trusting only the cluster CA of its state
 * directory, so a process squatting the API address cannot receive the token a client sends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch, type RequestInit, type Response } from 'undici';

/** Environment variable naming the cluster CA file for pods that talk to the API. */
export const API_CA_ENV = 'TESSERA_API_CA_FILE';

export function apiCaFile(stateDir: string): string {
  return join(stateDir, 'pki', 'ca.crt');
}

export class ApiTransport {
  private readonly agent: Agent;

  constructor(readonly caPem: string, opts: { cert?: string; key?: string } = {}) {
    // Only the cluster CA: the system's roots must not vouch for the mesh's API address.
    this.agent = new Agent({ connect: { ca: caPem, ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}) }, keepAliveTimeout: 30_000 });
  }

  static fromFile(caFile: string): ApiTransport {
    return new ApiTransport(readFileSync(caFile, 'utf8'));
  }

  fetch(url: string, init: RequestInit = {}): Promise<Response> {
    return undiciFetch(url, { ...init, dispatcher: this.agent });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
