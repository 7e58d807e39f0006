/** Holder for private-key PEM that never prints: inspect, JSON and string conversion show a placeholder. */
import { inspect } from 'node:util';

const REDACTED = '[redacted private key]';

export class PrivateKeyPem {
  readonly #pem: string;
  constructor(pem: string) {
    this.#pem = pem;
  }
  /** The PEM itself; call only where it is handed to TLS or written to its Secret. */
  reveal(): string {
    return this.#pem;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}
