/**
 * Modules that hold their place in the chains (so `config_dump` lists them where FSM does) but have
 * no policy to enforce yet: TLS termination (mTLS arrives with the identity work). Under a snapshot
 * with no such policy they compile to nothing, so they cost nothing per request.
 */
import type { ModuleEnv } from './env.js';

export function passThrough(_env: ModuleEnv): null {
  return null;
}
