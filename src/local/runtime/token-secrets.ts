/**
 * Kubernetes' token controller for the Secrets that ask for a token: a Secret of type
 * `kubernetes.io/service-account-token` annotated `kubernetes.io/service-account.name` is filled with
 * `token`, `ca.crt` and `namespace`, and annotated with the ServiceAccount's uid, once that
 * ServiceAccount exists (`tessera install` creates one per component; their Deployments read it with
 * `secretKeyRef`). A Secret that already holds a token is left alone, as is one naming another
 * ServiceAccount uid.
 *
 * The token is a ServiceAccount JWT bound to the Secret (service-account-tokens.ts): it authenticates
 * while the Secret exists, unreplaced, holding this token, and for ten years at most (kube-apiserver's
 * Secret tokens do not expire; this issuer always sets an expiry).
 */
import { readFileSync } from 'node:fs';
import type { Resource } from '../../api/types.js';
import { LEGACY_TOKEN_SECRET_TYPE } from '../../kube/auth/index.js';
import { stateFiles } from '../layout.js';
import { issuerFor, type ServiceAccountTokenDeps } from './service-account-token.js';

const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';
const TOKEN_SECONDS = 10 * 365 * 24 * 3600;

type TokenSecret = Resource & { type?: string; data?: Record<string, string> };

/** The Secret with its token written, or undefined when it has one already or its ServiceAccount is not there. */
export function fillTokenSecret(deps: ServiceAccountTokenDeps, secret: TokenSecret): TokenSecret | undefined {
  if (secret.type !== LEGACY_TOKEN_SECRET_TYPE || secret.metadata.deletionTimestamp || secret.data?.['token']) return undefined;
  const namespace = secret.metadata.namespace ?? 'default';
  const saName = secret.metadata.annotations?.[SA_NAME_ANNOTATION];
  if (!saName) return undefined;
  const sa = deps.store.get({ kind: 'ServiceAccount', namespace, name: saName });
  if (!sa || sa.metadata.deletionTimestamp) return undefined;
  const wantedUid = secret.metadata.annotations?.[SA_UID_ANNOTATION];
  if (wantedUid !== undefined && wantedUid !== sa.metadata.uid) return undefined;
  const tokens = issuerFor(deps);
  const { token } = tokens.issue({ namespace, serviceAccount: sa, audiences: [...tokens.apiAudiences], expirationSeconds: TOKEN_SECONDS, boundSecret: secret });
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return {
    ...secret,
    metadata: { ...secret.metadata, annotations: { ...secret.metadata.annotations, [SA_UID_ANNOTATION]: sa.metadata.uid ?? '' } },
    data: { ...secret.data, token: b64(token), 'ca.crt': b64(readFileSync(stateFiles.apiCa(deps.stateDir), 'utf8')), namespace: b64(namespace) },
  };
}

/** Fills token Secrets as they (or their ServiceAccounts) appear; one pass over them per burst of changes. */
export function startTokenSecretController(deps: ServiceAccountTokenDeps): { stop(): void } {
  let scheduled = false;
  let stopped = false;
  const pass = (): void => {
    scheduled = false;
    if (stopped) return;
    for (const secret of deps.store.list('Secret') as TokenSecret[]) {
      if (secret.type !== LEGACY_TOKEN_SECRET_TYPE) continue;
      try {
        const filled = fillTokenSecret(deps, secret);
        if (!filled) continue;
        // only over the version read: a concurrent update wins and the next pass looks again
        deps.store.transact([{ op: 'put', object: filled, expectResourceVersion: secret.metadata.resourceVersion! }]);
        deps.log(`token controller: wrote the token of ServiceAccount ${secret.metadata.namespace}/${secret.metadata.annotations?.[SA_NAME_ANNOTATION]} into Secret ${secret.metadata.name}`);
      } catch (e) {
        deps.log(`token controller: Secret ${secret.metadata.namespace}/${secret.metadata.name}: ${(e as Error).message}`);
      }
    }
  };
  const schedule = (kind?: string): void => {
    if (scheduled || stopped || (kind !== undefined && kind !== 'Secret' && kind !== 'ServiceAccount')) return;
    scheduled = true;
    setImmediate(pass);
  };
  const unwatch = deps.store.watch((event) => schedule(event.object.kind));
  schedule();
  return {
    stop() {
      stopped = true;
      unwatch();
    },
  };
}
