/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it,
 * so several controller replicas can run and only one writes (the CA bundle Secret, the trust-bundle
 * ConfigMap, AccessCert Secrets). Every replica keeps computing and serving snapshots from its own
 * informers: that writes nothing.
 *
 * - The Lease `<mesh>-controller` in `<mesh>-system` names the holder (`holderIdentity`: the pod
 *   name and a random suffix, so a restarted pod is a new candidate), `leaseDurationSeconds` (15),
 *   `acquireTime`, `renewTime` (RFC 3339 with microseconds, a MicroTime) and `leaseTransitions`.
 * - Every write is an optimistic-concurrency PUT carrying the resourceVersion that was read: a 409
 *   means someone else wrote first, and the Lease is read again before anything is decided.
 * - A candidate takes the Lease over when it is released (no holder) or expired. Expired means the
 *   record has not changed for a whole lease duration while this replica watched it (client-go's
 *   rule: no trust in another host's clock), or its renewTime is older than two lease durations by
 *   this replica's clock (a holder long gone before this replica started; clocks may disagree by up
 *   to one lease duration). A takeover increments `leaseTransitions`.
 * - The leader renews every 5 s. When no renewal has succeeded for the renew deadline (10 s, less
 *   than the lease duration, so nobody else can have taken over yet) it steps down at once, on a
 *   timer, whatever its requests are still waiting for; `canWrite()` says false from then on.
 * - `stop()` releases the Lease (holder cleared, duration 1 s) so a peer need not wait for expiry.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isMeshError } from '../lib/errors.js';
import type { ControllerLog } from './controller.js';

export const LEASE_API_VERSION = 'coordination.k8s.io/v1';

/** The raw REST access the elector needs (`KubeMeshApi.request`). */
export interface LeaseApi {
  request<T = unknown>(method: string, path: string, o?: { body?: unknown; contentType?: string; timeoutMs?: number }): Promise<T>;
}

/** Time and timers; tests pass a fake one. */
export interface LeaderClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: LeaderClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: string;
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  api: LeaseApi;
  namespace: string;
  name: string;
  /** this replica's holderIdentity; `leaderIdentity()` makes one */
  identity: string;
  onStartedLeading?: () => void;
  onStoppedLeading?: (reason: string) => void;
  /** the holder named by the Lease changed (undefined: released) */
  onNewLeader?: (holder: string | undefined) => void;
  clock?: LeaderClock;
  log?: ControllerLog;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  renewPeriodMs?: number;
  retryPeriodMs?: number;
}

export interface LeaderElection {
  readonly identity: string;
  /** true while this replica holds the Lease and its last renewal is within the renew deadline */
  canWrite(): boolean;
  isLeader(): boolean;
  /** the holder the Lease named when last read (undefined: none, or not read yet) */
  observedLeader(): string | undefined;
  /** stops campaigning; a leader releases the Lease (best effort) and steps down */
  stop(): Promise<void>;
}

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RENEW_PERIOD_MS = 5_000;
export const RETRY_PERIOD_MS = 2_000;

/**
 * `<pod name>_<random>`: the pod name from POD_NAME (downward API), else HOSTNAME (a container
 * runtime sets it to the pod's hostname, which local pods cannot have as their uname), else the
 * hostname, as client-go does.
 */
export function leaderIdentity(podName: string = process.env.POD_NAME || process.env.HOSTNAME || hostname()): string {
  return `${podName}_${randomBytes(6).toString('hex')}`;
}

/** A MicroTime: RFC 3339 with exactly six fractional digits, as kube-apiserver parses it. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function leasePath(namespace: string, name?: string): string {
  const base = `/apis/${LEASE_API_VERSION}/namespaces/${encodeURIComponent(namespace)}/leases`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

const codeOf = (e: unknown): string | undefined => (isMeshError(e) ? e.code : undefined);
const isConflict = (e: unknown): boolean => codeOf(e) === 'MESH_ERR_CONFLICT' || codeOf(e) === 'MESH_ERR_ALREADY_EXISTS';

export function startLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  const clock = opts.clock ?? systemClock;
  const leaseDurationMs = opts.leaseDurationMs ?? LEASE_DURATION_MS;
  const renewDeadlineMs = opts.renewDeadlineMs ?? RENEW_DEADLINE_MS;
  const renewPeriodMs = opts.renewPeriodMs ?? RENEW_PERIOD_MS;
  const retryPeriodMs = opts.retryPeriodMs ?? RETRY_PERIOD_MS;
  if (!(renewDeadlineMs < leaseDurationMs)) throw new Error('leader election: the renew deadline must be shorter than the lease duration');
  // A request must give up before the deadline it counts towards.
  const requestTimeoutMs = Math.max(1000, Math.min(renewDeadlineMs / 2, leaseDurationMs / 3));
  const { api, namespace, name, identity } = opts;

  let leader = false;
  let stopped = false;
  /** when this replica's last write of the Lease (acquire or renew) succeeded */
  let lastRenewAt = -Infinity;
  /** the record as last read, and when (by this replica's clock) it was first seen as it is */
  let observed: { key: string; holder: string | undefined } | undefined;
  let observedAt = 0;
  let tickTimer: unknown;
  let deadlineTimer: unknown;
  let inFlight: Promise<void> | undefined;
  /** a write that was in flight when stop() was called succeeded: the Lease is ours to release */
  let heldAtStop = false;

  const becomeLeader = (): void => {
    if (leader) return;
    leader = true;
    opts.log?.info('became the leader', { lease: `${namespace}/${name}`, identity });
    opts.onStartedLeading?.();
  };
  const stepDown = (reason: string): void => {
    if (!leader) return;
    leader = false;
    if (deadlineTimer !== undefined) clock.clearTimeout(deadlineTimer);
    deadlineTimer = undefined;
    opts.log?.warn('stopped leading', { lease: `${namespace}/${name}`, identity, reason });
    opts.onStoppedLeading?.(reason);
  };
  const renewed = (at: number): void => {
    lastRenewAt = at;
    if (deadlineTimer !== undefined) clock.clearTimeout(deadlineTimer);
    deadlineTimer = clock.setTimeout(() => {
      deadlineTimer = undefined;
      if (leader && clock.now() >= lastRenewAt + renewDeadlineMs) stepDown(`no renewal succeeded for ${renewDeadlineMs} ms`);
    }, Math.max(0, at + renewDeadlineMs - clock.now()));
    becomeLeader();
  };

  const observe = (lease: Lease, now: number): void => {
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity || undefined;
    const key = `${lease.metadata.resourceVersion ?? ''}|${JSON.stringify(spec)}`;
    if (observed?.key === key) return;
    if (observed === undefined || observed.holder !== holder) opts.onNewLeader?.(holder);
    observed = { key, holder };
    observedAt = now;
  };

  const expired = (spec: LeaseSpec, now: number): boolean => {
    if (!spec.holderIdentity) return true; // released
    const durationMs = (spec.leaseDurationSeconds ?? leaseDurationMs / 1000) * 1000;
    if (observedAt + durationMs < now) return true; // unchanged under our eyes for a whole duration
    const renew = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
    return Number.isFinite(renew) && renew + 2 * durationMs < now;
  };

  const record = (now: number, before: LeaseSpec | undefined): LeaseSpec => {
    const ours = before?.holderIdentity === identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds: Math.round(leaseDurationMs / 1000),
      acquireTime: ours && before?.acquireTime ? before.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: before === undefined ? 0 : ours ? before.leaseTransitions ?? 0 : (before.leaseTransitions ?? 0) + 1,
    };
  };

  /** One acquire-or-renew. True when this replica holds the Lease afterwards. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = clock.now();
      let lease: Lease | undefined;
      try {
        lease = await api.request<Lease>('GET', leasePath(namespace, name), { timeoutMs: requestTimeoutMs });
      } catch (e) {
        if (codeOf(e) !== 'MESH_ERR_NOT_FOUND') {
          opts.log?.warn('cannot read the leader election Lease', { lease: `${namespace}/${name}`, error: (e as Error).message });
          return false;
        }
      }
      if (stopped) return false;
      if (lease === undefined) {
        const body: Lease = { apiVersion: LEASE_API_VERSION, kind: 'Lease', metadata: { name, namespace }, spec: record(now, undefined) };
        try {
          const created = await api.request<Lease>('POST', leasePath(namespace), { body, timeoutMs: requestTimeoutMs });
          if (stopped) return (heldAtStop = true), false;
          observe(created ?? body, clock.now());
          renewed(now);
          return true;
        } catch (e) {
          if (isConflict(e)) continue; // another replica created it first: read it
          opts.log?.warn('cannot create the leader election Lease', { lease: `${namespace}/${name}`, error: (e as Error).message });
          return false;
        }
      }
      observe(lease, now);
      const spec = lease.spec ?? {};
      if (spec.holderIdentity !== identity && !expired(spec, now)) {
        if (leader) stepDown(`the Lease names ${spec.holderIdentity}`);
        return false;
      }
      const body: Lease = { ...lease, spec: { ...spec, ...record(now, spec) } };
      try {
        const updated = await api.request<Lease>('PUT', leasePath(namespace, name), { body, timeoutMs: requestTimeoutMs });
        if (stopped) return (heldAtStop = true), false;
        observe(updated ?? body, clock.now());
        if (spec.holderIdentity !== identity) opts.log?.info('took the leader election Lease over', { lease: `${namespace}/${name}`, from: spec.holderIdentity ?? null, transitions: body.spec!.leaseTransitions });
        renewed(now);
        return true;
      } catch (e) {
        if (isConflict(e)) continue; // someone else wrote it since we read it: read it again
        opts.log?.warn(leader ? 'cannot renew the leader election Lease' : 'cannot acquire the leader election Lease', { lease: `${namespace}/${name}`, error: (e as Error).message });
        return false;
      }
    }
    return false;
  };

  const schedule = (ms: number): void => {
    if (stopped) return;
    tickTimer = clock.setTimeout(() => {
      tickTimer = undefined;
      void tick();
    }, ms);
  };
  const tick = async (): Promise<void> => {
    if (stopped) return;
    let resolve!: () => void;
    inFlight = new Promise<void>((r) => (resolve = r));
    try {
      const held = await tryAcquireOrRenew();
      schedule(held ? renewPeriodMs : retryPeriodMs);
    } catch (e) {
      opts.log?.warn('leader election round failed', { error: (e as Error).message });
      schedule(retryPeriodMs);
    } finally {
      inFlight = undefined;
      resolve();
    }
  };
  void tick();

  return {
    identity,
    canWrite: () => leader && !stopped && clock.now() < lastRenewAt + renewDeadlineMs,
    isLeader: () => leader,
    observedLeader: () => observed?.holder,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      if (tickTimer !== undefined) clock.clearTimeout(tickTimer);
      tickTimer = undefined;
      await inFlight;
      if (!leader && !heldAtStop) return;
      stepDown('shutting down');
      try {
        const lease = await api.request<Lease>('GET', leasePath(namespace, name), { timeoutMs: requestTimeoutMs });
        if (lease.spec?.holderIdentity !== identity) return;
        const now = clock.now();
        const spec: LeaseSpec = { ...lease.spec, leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) };
        delete spec.holderIdentity;
        await api.request('PUT', leasePath(namespace, name), { body: { ...lease, spec }, timeoutMs: requestTimeoutMs });
        opts.log?.info('released the leader election Lease', { lease: `${namespace}/${name}`, identity });
      } catch (e) {
        opts.log?.warn('cannot release the leader election Lease', { lease: `${namespace}/${name}`, error: (e as Error).message });
      }
    },
  };
}
