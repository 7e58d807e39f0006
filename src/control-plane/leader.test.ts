/**
 * The Lease elector against a fake clock and an in-memory Lease store that answers as the API server
 * does (404 on a missing Lease, 409 AlreadyExists on a second create, 409 Conflict on a PUT whose
 * resourceVersion is stale): acquire, renew, takeover after expiry, 409 handling, step down when
 * renewal fails past the deadline, release on stop.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../lib/errors.js';
import { microTime, startLeaderElection, type Lease, type LeaderClock, type LeaderElection, type LeaseApi } from './leader.js';

const NS = 'fsm-system';
const NAME = 'fsm-controller';
const PATH = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
const T0 = Date.parse('2030-01-01T00:00:00Z');

class FakeClock implements LeaderClock {
  t = T0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const next = [...this.timers].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

/** One Lease, stored as the API server stores it. */
class LeaseStore {
  lease: Lease | undefined;
  rv = 0;
  writes: { method: string; by?: string | null }[] = [];
  /** make every request of these callers fail (an unreachable API server) */
  down = new Set<string>();
  /** requests that never answer (until released) */
  hang = new Set<string>();
  /** run before the next PUT is applied (another replica writing in between) */
  beforePut: (() => void) | undefined;

  api(who: string): LeaseApi {
    return {
      request: async <T>(method: string, path: string, o: { body?: unknown } = {}): Promise<T> => {
        if (this.hang.has(who)) return new Promise<T>(() => undefined);
        if (this.down.has(who)) throw new MeshError('MESH_ERR_TIMEOUT', 'the API server did not answer');
        if (method === 'GET' && path === `${PATH}/${NAME}`) {
          if (!this.lease) throw new MeshError('MESH_ERR_NOT_FOUND', 'leases "fsm-controller" not found');
          return structuredClone(this.lease) as T;
        }
        if (method === 'POST' && path === PATH) {
          if (this.lease) throw new MeshError('MESH_ERR_ALREADY_EXISTS', 'leases "fsm-controller" already exists');
          const body = structuredClone(o.body) as Lease;
          this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
          this.writes.push({ method, by: body.spec?.holderIdentity });
          return structuredClone(this.lease) as T;
        }
        if (method === 'PUT' && path === `${PATH}/${NAME}`) {
          const hook = this.beforePut;
          this.beforePut = undefined;
          hook?.();
          const body = structuredClone(o.body) as Lease;
          if (!this.lease) throw new MeshError('MESH_ERR_NOT_FOUND', 'not found');
          if (body.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
            throw new MeshError('MESH_ERR_CONFLICT', 'Operation cannot be fulfilled on leases.coordination.k8s.io "fsm-controller": the object has been modified; please apply your changes to the latest version and try again');
          }
          this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
          this.writes.push({ method, by: body.spec?.holderIdentity ?? null });
          return structuredClone(this.lease) as T;
        }
        throw new Error(`unexpected ${method} ${path}`);
      },
    };
  }

  /** What another replica's write looks like. */
  putAs(holder: string | undefined, renewMs: number, transitions = this.lease?.spec?.leaseTransitions ?? 0): void {
    this.lease = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name: NAME, namespace: NS, resourceVersion: String(++this.rv) },
      spec: { ...(holder ? { holderIdentity: holder } : {}), leaseDurationSeconds: 15, acquireTime: microTime(renewMs), renewTime: microTime(renewMs), leaseTransitions: transitions },
    };
  }
}

function candidate(store: LeaseStore, clock: FakeClock, identity: string): LeaderElection & { events: string[] } {
  const events: string[] = [];
  const e = startLeaderElection({
    api: store.api(identity), namespace: NS, name: NAME, identity, clock,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: (why) => events.push(`stopped: ${why}`),
  });
  return Object.assign(e, { events });
}

test('acquire: the first candidate creates the Lease and holds it; MicroTime stamps', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  const a = candidate(store, clock, 'pod-a_1');
  await clock.advance(0);
  assert.ok(a.isLeader());
  assert.ok(a.canWrite());
  assert.deepEqual(a.events, ['started']);
  const spec = store.lease!.spec!;
  assert.equal(spec.holderIdentity, 'pod-a_1');
  assert.equal(spec.leaseDurationSeconds, 15);
  assert.equal(spec.leaseTransitions, 0);
  assert.equal(spec.renewTime, '2030-01-01T00:00:00.000000Z');
  assert.equal(spec.acquireTime, spec.renewTime);
  await a.stop();
});

test('renew: every 5 s with the resourceVersion read; acquireTime kept; a second candidate waits', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  const a = candidate(store, clock, 'a');
  await clock.advance(0);
  const b = candidate(store, clock, 'b');
  await clock.advance(60_000);
  assert.ok(a.isLeader());
  assert.ok(!b.isLeader());
  assert.ok(!b.canWrite());
  assert.equal(b.observedLeader(), 'a');
  const spec = store.lease!.spec!;
  assert.equal(spec.holderIdentity, 'a');
  assert.equal(spec.acquireTime, microTime(T0));
  assert.equal(spec.renewTime, microTime(T0 + 60_000));
  assert.equal(spec.leaseTransitions, 0);
  const renewals = store.writes.filter((w) => w.method === 'PUT' && w.by === 'a').length;
  assert.equal(renewals, 12, 'one renewal per 5 s');
  assert.ok(store.writes.every((w) => w.by === 'a'), 'the follower never wrote');
  await a.stop();
  await b.stop();
});

test('two candidates starting together: one create wins, the loser (409 AlreadyExists) reads and follows', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  const a = candidate(store, clock, 'a');
  const b = candidate(store, clock, 'b');
  await clock.advance(10_000);
  assert.equal([a, b].filter((c) => c.isLeader()).length, 1);
  assert.equal(store.writes.filter((w) => w.method === 'POST').length, 1);
  await a.stop();
  await b.stop();
});

test('takeover: when the leader stops renewing, a follower acquires after the lease duration; leaseTransitions + 1', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  const a = candidate(store, clock, 'a');
  await clock.advance(0);
  const b = candidate(store, clock, 'b');
  await clock.advance(7_000);
  // a dies: its requests never arrive again (killed; nothing released)
  store.hang.add('a');
  const killedAt = clock.now();
  const lastRenew = Date.parse(store.lease!.spec!.renewTime!);
  await clock.advance(12_000);
  assert.ok(!b.isLeader(), 'not before the lease duration has passed since the last change');
  await clock.advance(8_000);
  assert.ok(b.isLeader(), 'b took over');
  const spec = store.lease!.spec!;
  assert.equal(spec.holderIdentity, 'b');
  assert.equal(spec.leaseTransitions, 1);
  const takenAt = Date.parse(spec.acquireTime!);
  assert.ok(takenAt - lastRenew > 15_000, 'only after the lease expired');
  assert.ok(takenAt - killedAt <= 20_000, `within 20 s of the kill (${takenAt - killedAt} ms)`);
  // a, cut off, stepped down on its own at the renew deadline, before b could take over
  assert.ok(!a.isLeader());
  assert.match(a.events.join(), /stopped: no renewal succeeded/);
  store.hang.delete('a');
  await b.stop();
});

test('takeover without watching: a fresh candidate takes a Lease whose renewTime is two durations old at once', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  store.putAs('dead_1', T0 - 31_000, 4);
  const c = candidate(store, clock, 'c');
  await clock.advance(0);
  assert.ok(c.isLeader());
  assert.equal(store.lease!.spec!.leaseTransitions, 5);

  // …but one only just expired by its stamps (the holder's clock may be behind ours) is watched for
  // a whole duration first: stamped 5 s ago, expired by it at +10 s, taken at the first retry after +15 s
  const store2 = new LeaseStore();
  store2.putAs('other_1', T0 - 5_000);
  const d = candidate(store2, clock, 'd');
  await clock.advance(14_000);
  assert.ok(!d.isLeader());
  await clock.advance(4_000);
  assert.ok(d.isLeader());
  await c.stop();
  await d.stop();
});

test('a released Lease (no holder) is acquired at once', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  store.putAs(undefined, T0, 2);
  const c = candidate(store, clock, 'c');
  await clock.advance(0);
  assert.ok(c.isLeader());
  assert.equal(store.lease!.spec!.leaseTransitions, 3);
  await c.stop();
});

test('409 Conflict on renew: the leader reads again; another holder\'s valid renewal makes it step down', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  const a = candidate(store, clock, 'a');
  await clock.advance(0);
  // an unrelated write between a's GET and PUT (someone touched the object): a re-reads and renews
  store.beforePut = () => {
    store.lease = { ...store.lease!, metadata: { ...store.lease!.metadata, resourceVersion: String(++store.rv) } };
  };
  await clock.advance(5_000);
  assert.ok(a.isLeader());
  assert.equal(store.lease!.spec!.renewTime, microTime(T0 + 5_000), 'renewed after re-reading');
  // another replica renewed it as its own between a's GET and PUT: a reads again and steps down
  store.beforePut = () => store.putAs('z', clock.now());
  await clock.advance(5_000);
  assert.ok(!a.isLeader());
  assert.ok(!a.canWrite());
  assert.equal(store.lease!.spec!.holderIdentity, 'z');
  assert.match(a.events.join(), /stopped: the Lease names z/);
  await a.stop();
});

test('renewal failing past the renew deadline: the leader steps down at once, even with its request still waiting', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  const a = candidate(store, clock, 'a');
  await clock.advance(0);
  store.down.add('a');
  await clock.advance(9_999);
  assert.ok(a.canWrite(), 'still within the deadline');
  await clock.advance(1);
  assert.ok(!a.isLeader());
  assert.ok(!a.canWrite());
  assert.deepEqual(a.events, ['started', 'stopped: no renewal succeeded for 10000 ms']);

  // hanging requests: the deadline timer alone steps it down
  const store2 = new LeaseStore();
  const b = candidate(store2, clock, 'b');
  await clock.advance(0);
  store2.hang.add('b');
  await clock.advance(10_000);
  assert.ok(!b.isLeader());
  assert.ok(!b.canWrite());

  // the API back: a acquires again (its own Lease, not yet taken by anyone)
  store.down.delete('a');
  await clock.advance(2_000);
  assert.ok(a.isLeader());
  assert.equal(store.lease!.spec!.leaseTransitions, 0, 'still its own Lease: no transition');
  await a.stop();
});

test('release on stop: holderIdentity cleared; the follower takes over at its next retry', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  const a = candidate(store, clock, 'a');
  await clock.advance(0);
  const b = candidate(store, clock, 'b');
  await clock.advance(3_000);
  await a.stop();
  assert.equal(store.lease!.spec!.holderIdentity, undefined);
  assert.equal(store.lease!.spec!.leaseDurationSeconds, 1);
  assert.deepEqual(a.events, ['started', 'stopped: shutting down']);
  await clock.advance(2_000);
  assert.ok(b.isLeader());
  assert.equal(store.lease!.spec!.leaseTransitions, 1);
  const writes = store.writes.length;
  await clock.advance(30_000);
  assert.ok(store.writes.slice(writes).every((w) => w.by === 'b'), 'a stopped writing');
  await b.stop();
});
