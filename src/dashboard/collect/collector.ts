/**
 * The I/O side of the dashboard's data: one round every interval reads the mesh's status, pods and
 * resources through the user's API credentials and each sidecar's admin server through the API
 * server's pod proxy; a follower per sidecar reads its log for refusals as they are written. What
 * comes back is turned into a DashboardState by the pure functions beside this file.
 *
 * A sidecar that does not answer (stopped, hung) must never hold a round up: every call to it has a
 * deadline, calls run a few at a time, and a sidecar with a call still outstanding is skipped (not
 * piled on) and keeps its last known data, with a line in `problems`.
 */
import type { Pod, Resource } from '../../api/types.js';
import { isPodReady, isProxyPod, serviceAccountOf } from '../../catalog/pods.js';
import type { MeshApi, MeshStatus } from '../../local/api-contract.js';
import { lintWorldOf } from '../../policy-lint/index.js';
import type { DashboardState, Decision, DecisionKind, EdgeSeries, ProxyView, ResourceView } from '../model.js';
import { callerLabelOfLine, decisionOfLine } from './decisions.js';
import { EdgeHistory } from './history.js';
import { parsePrometheus, type Sample } from './prom.js';
import { proxyViewOf, type AdminFacts } from './proxies.js';
import { MESH_KINDS, WORLD_KINDS, resourceViewOf, sortResources } from './resources.js';
import { buildTopology, countersOf, deltaOf, resolveCaller, type Counters, type PodFacts, type ProxyRound } from './topology.js';

/** What the collector needs of a mesh: reads only. */
export type MeshReader = Pick<MeshApi, 'status' | 'list' | 'proxyGet' | 'streamLogs'>;

export interface CollectorOptions {
  intervalMs: number;
  /** deadline of each call to a sidecar (≤ 1 s) */
  proxyTimeoutMs?: number;
  /** sidecars read at once */
  concurrency?: number;
  /** how often config_dump and certs are re-read (they change only with a version or a rotation) */
  adminEveryMs?: number;
  /** how often resources are re-listed */
  resourcesEveryMs?: number;
  now?: () => number;
}

export const MAX_RECENT_DECISIONS = 200;

export class CallTimeout extends Error {
  readonly code = 'DASHBOARD_ERR_TIMEOUT';
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'CallTimeout';
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeout(what, ms)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

interface SidecarData {
  namespace: string;
  pod: string;
  workload: string;
  /** last metrics read, when */
  samples?: Sample[];
  counters?: Counters;
  countersAt?: number;
  /** counters before the last read, for this round's delta */
  delta?: Counters;
  deltaSeconds?: number;
  freshThisRound: boolean;
  admin: AdminFacts;
  adminAt?: number;
  adminVersion?: string;
  seenAt?: number;
  error?: string;
  /** calls to its admin server not settled yet (a deadline does not end them) */
  inflight: number;
}

export function podFactsOf(pods: readonly Pod[]): PodFacts[] {
  return pods.map((p) => {
    const owner = (p.metadata.ownerReferences ?? []).find((r) => r.controller);
    const f: PodFacts = {
      namespace: p.metadata.namespace ?? 'default', name: p.metadata.name, workload: owner?.name ?? p.metadata.name,
      ready: isPodReady(p), serviceAccount: serviceAccountOf(p), meshed: isProxyPod(p),
    };
    const ip = p.status?.podIP;
    if (ip) f.ip = ip;
    return f;
  });
}

export class Collector {
  private readonly proxyTimeoutMs: number;
  private readonly concurrency: number;
  private readonly adminEveryMs: number;
  private readonly resourcesEveryMs: number;
  private readonly now: () => number;
  private readonly sidecars = new Map<string, SidecarData>();
  private readonly followers = new Map<string, LogFollower>();
  private readonly history = new EdgeHistory();
  private readonly stateListeners = new Set<(s: DashboardState) => void>();
  private readonly decisionListeners = new Set<(d: Decision) => void>();
  private readonly startedAt: string;
  private pods: PodFacts[] = [];
  private status: MeshStatus | undefined;
  private resources: ResourceView[] = [];
  private resourceProblems: string[] = [];
  private resourcesAt = 0;
  private recent: Decision[] = [];
  private deniedWindow = new Map<string, number>();
  private readonly deniedTotal = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private current: DashboardState;

  constructor(private readonly api: MeshReader, private readonly opts: CollectorOptions) {
    this.proxyTimeoutMs = Math.min(opts.proxyTimeoutMs ?? 1000, 1000);
    this.concurrency = opts.concurrency ?? 4;
    this.adminEveryMs = opts.adminEveryMs ?? 5000;
    this.resourcesEveryMs = opts.resourcesEveryMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.startedAt = new Date(this.now()).toISOString();
    this.current = {
      meshName: '', generatedAt: this.startedAt, topology: { nodes: [], edges: [] }, proxies: [],
      decisions: { recent: [], counters: [] }, resources: [], problems: ['collecting: the first round has not finished yet'],
    };
  }

  get state(): DashboardState {
    return this.current;
  }

  series(edgeId: string): EdgeSeries | undefined {
    return this.history.get(edgeId);
  }

  onState(fn: (s: DashboardState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  onDecision(fn: (d: Decision) => void): () => void {
    this.decisionListeners.add(fn);
    return () => this.decisionListeners.delete(fn);
  }

  /** Starts the rounds; the first one runs at once and is awaited. */
  async start(): Promise<void> {
    const start = this.now();
    await this.round();
    this.schedule(start);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const f of this.followers.values()) f.stop();
    this.followers.clear();
  }

  /** Rounds start an interval apart (a round's own time included), never two at once. */
  private schedule(lastStart = this.now()): void {
    if (this.stopped) return;
    const wait = Math.max(0, lastStart + this.opts.intervalMs - this.now());
    this.timer = setTimeout(() => {
      const start = this.now();
      void this.round().finally(() => this.schedule(start));
    }, wait);
    this.timer.unref?.();
  }

  /** One collection round; never throws (what failed becomes a problem line). */
  async round(): Promise<DashboardState> {
    const problems: string[] = [];
    const apiDeadline = Math.max(3000, this.opts.intervalMs);
    try {
      this.status = await withTimeout(this.api.status(), apiDeadline, 'the mesh API (status)');
      if (!this.status.controlPlane.ready) problems.push('control plane: not ready (proxy versions unknown)');
    } catch (e) {
      problems.push(`mesh status: ${messageOf(e)}`);
    }
    try {
      const pods = (await withTimeout(this.api.list({ kind: 'Pod', allNamespaces: true }), apiDeadline, 'the mesh API (pods)')) as Pod[];
      this.pods = podFactsOf(pods.filter((p) => !p.metadata.deletionTimestamp));
    } catch (e) {
      problems.push(`pods: ${messageOf(e)}`);
    }
    const meshed = this.pods.filter((p) => p.meshed && (p.ip !== undefined || p.ready));
    this.syncSidecars(meshed);
    await eachLimited([...this.sidecars.values()], this.concurrency, (s) => this.readSidecar(s));
    for (const s of this.sidecars.values()) if (s.error) problems.push(`sidecar ${s.namespace}/${s.pod}: ${s.error}${s.seenAt ? ` (showing what it said at ${new Date(s.seenAt).toISOString()})` : ''}`);
    if (this.now() - this.resourcesAt >= this.resourcesEveryMs) await this.readResources();
    problems.push(...this.resourceProblems);
    return this.publish(problems);
  }

  private syncSidecars(meshed: readonly PodFacts[]): void {
    const keep = new Set(meshed.map((p) => `${p.namespace}/${p.name}`));
    for (const key of this.sidecars.keys()) if (!keep.has(key)) this.sidecars.delete(key);
    for (const [key, f] of this.followers) {
      if (!keep.has(key)) {
        f.stop();
        this.followers.delete(key);
      }
    }
    for (const p of meshed) {
      const key = `${p.namespace}/${p.name}`;
      if (!this.sidecars.has(key)) this.sidecars.set(key, { namespace: p.namespace, pod: p.name, workload: p.workload, admin: {}, inflight: 0, freshThisRound: false });
      if (!this.followers.has(key)) {
        const f = new LogFollower(this.api, { namespace: p.namespace, pod: p.name, workload: p.workload }, this.startedAt, (d, line) => this.decided(d, line));
        this.followers.set(key, f);
        f.start();
      }
    }
  }

  private async readSidecar(s: SidecarData): Promise<void> {
    s.freshThisRound = false;
    if (s.inflight > 0) {
      s.error = `still waiting for its admin server (no answer within ${this.proxyTimeoutMs} ms)`;
      return;
    }
    const get = async (path: string): Promise<string> => {
      s.inflight++;
      const call = this.api.proxyGet(s.namespace, s.pod, path).finally(() => s.inflight--);
      const r = await withTimeout(call, this.proxyTimeoutMs, `its admin server (${path})`);
      if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
      return r.body;
    };
    try {
      const text = await get('metrics');
      const at = this.now();
      const samples = parsePrometheus(text, (n) => n.startsWith('tessera_') && !n.startsWith('tessera_sidecar_'));
      const counters = countersOf(samples);
      // the first read is a baseline, not a burst
      s.delta = s.counters ? deltaOf(counters, s.counters) : new Map();
      s.deltaSeconds = s.countersAt ? (at - s.countersAt) / 1000 : this.opts.intervalMs / 1000;
      s.counters = counters;
      s.countersAt = at;
      s.samples = samples;
      s.freshThisRound = true;
      s.seenAt = at;
      delete s.error;
      const version = this.status?.proxies.find((p) => p.namespace === s.namespace && p.pod === s.pod)?.appliedVersion;
      if (!s.adminAt || at - s.adminAt >= this.adminEveryMs || version !== s.adminVersion) {
        const [dump, certs] = await Promise.allSettled([get('config_dump'), get('certs')]);
        s.admin = {
          configDump: dump.status === 'fulfilled' ? JSON.parse(dump.value) : s.admin.configDump,
          certs: certs.status === 'fulfilled' ? JSON.parse(certs.value) : s.admin.certs,
        };
        s.adminAt = at;
        s.adminVersion = version;
      }
    } catch (e) {
      s.error = messageOf(e);
    }
  }

  private async readResources(): Promise<void> {
    const problems: string[] = [];
    const deadline = Math.max(3000, this.opts.intervalMs);
    const list = async (kind: string): Promise<Resource[]> => {
      try {
        return await withTimeout(this.api.list({ kind, allNamespaces: true }), deadline, `the mesh API (${kind})`);
      } catch (e) {
        problems.push(`${kind}: ${messageOf(e)}`);
        return [];
      }
    };
    const world = (await Promise.all(WORLD_KINDS.map(list))).flat();
    const worldComplete = problems.length === 0;
    const mesh = (await Promise.all(MESH_KINDS.map(list))).flat();
    const mc = mesh.find((r) => r.kind === 'MeshConfig') as { spec?: { sidecar?: { sidecarDisabledMTLS?: boolean } } } | undefined;
    // with part of the world unreadable, every name in it would look missing: no warnings beat false ones
    const lintWorld = worldComplete ? lintWorldOf(world, mc?.spec) : undefined;
    if (!worldComplete) problems.push('validation warnings are not shown: your credentials cannot list everything they are checked against');
    this.resources = sortResources(mesh.map((r) => resourceViewOf(r, lintWorld)));
    this.resourceProblems = problems;
    this.resourcesAt = this.now();
  }

  /** A refusal read from a log: kept, pushed at once, and counted against its edge. */
  private decided(d: Decision, line: string): void {
    this.recent.unshift(d);
    if (this.recent.length > MAX_RECENT_DECISIONS) this.recent.length = MAX_RECENT_DECISIONS;
    if (d.direction === 'inbound') {
      const label = callerLabelOfLine(line);
      if (label) {
        const id = `${resolveCaller(label, this.pods).id}->${d.namespace}/${d.workload}`;
        this.deniedWindow.set(id, (this.deniedWindow.get(id) ?? 0) + 1);
        this.deniedTotal.set(id, (this.deniedTotal.get(id) ?? 0) + 1);
      }
    }
    // /api/state shows it at once too, not only from the next round
    this.current = { ...this.current, decisions: { ...this.current.decisions, recent: [...this.recent] } };
    for (const fn of this.decisionListeners) fn(d);
  }

  private publish(problems: string[]): DashboardState {
    const nowMs = this.now();
    const rounds: ProxyRound[] = [];
    for (const s of this.sidecars.values()) {
      if (!s.counters) continue;
      rounds.push({ namespace: s.namespace, pod: s.pod, cur: s.counters, delta: s.freshThisRound ? (s.delta ?? new Map()) : new Map(), seconds: s.deltaSeconds ?? 1 });
    }
    const topology = buildTopology({ pods: this.pods, proxies: rounds, deniedInWindow: this.deniedWindow, deniedTotal: this.deniedTotal });
    this.deniedWindow = new Map();
    const proxies: ProxyView[] = (this.status?.proxies ?? []).map((p) => {
      const s = this.sidecars.get(`${p.namespace}/${p.pod}`);
      const v = proxyViewOf(p, s?.admin ?? {}, nowMs);
      if (s?.seenAt) v.adminSeenAt = new Date(s.seenAt).toISOString();
      if (s?.error) v.adminError = s.error;
      return v;
    });
    const state: DashboardState = {
      meshName: this.status?.meshName ?? '',
      generatedAt: new Date(nowMs).toISOString(),
      topology,
      proxies,
      decisions: { recent: [...this.recent], counters: policyCounters([...this.sidecars.values()].map((s) => s.samples ?? [])) },
      resources: this.resources,
      problems,
    };
    this.history.record(new Date(nowMs), topology);
    this.current = state;
    for (const fn of this.stateListeners) fn(state);
    return state;
  }
}

/** Per policy, tessera_policy_decisions_total summed over sidecars (dry-run decisions are not enforced and not counted). */
export function policyCounters(perSidecar: readonly (readonly Sample[])[]): DashboardState['decisions']['counters'] {
  const acc = new Map<string, { policy: string; kind: DecisionKind; allow: number; deny: number }>();
  for (const samples of perSidecar) {
    for (const s of samples) {
      if (s.name !== 'tessera_policy_decisions_total') continue;
      const action = s.labels['action'] ?? '';
      const kind: DecisionKind = action === 'REQUEST_AUTHENTICATION' ? 'JWT' : 'AuthorizationPolicy';
      const policy = s.labels['policy'] || (kind === 'JWT' ? '(request authentication)' : '(no policy)');
      const key = `${kind}\0${policy}`;
      const c = acc.get(key) ?? { policy, kind, allow: 0, deny: 0 };
      if (s.labels['decision'] === 'allowed') c.allow += s.value;
      else if (s.labels['decision'] === 'denied') c.deny += s.value;
      acc.set(key, c);
    }
  }
  return [...acc.values()].sort((a, b) => a.policy.localeCompare(b.policy));
}

/**
 * Follows one sidecar's log from `since` and hands each refusal over as soon as it is read. A stream
 * that ends (the pod restarted, the API server went away) is reopened after a growing pause, from
 * the last line read, skipping the lines already seen at that instant.
 */
export class LogFollower {
  private stopped = false;
  private seq = 0;
  private lastTime: string;
  private seenAtLast = new Set<string>();
  private iterator: AsyncIterator<Uint8Array> | undefined;

  constructor(
    private readonly api: MeshReader,
    private readonly from: { namespace: string; pod: string; workload: string },
    since: string,
    private readonly onDecision: (d: Decision, line: string) => void,
  ) {
    this.lastTime = since;
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    void this.iterator?.return?.().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    let backoffMs = 250;
    while (!this.stopped) {
      const openedAt = Date.now();
      try {
        const stream = await this.api.streamLogs(this.from.namespace, this.from.pod, { container: 'sidecar', follow: true, sinceTime: this.lastTime });
        this.iterator = stream[Symbol.asyncIterator]();
        await this.read(this.iterator);
      } catch {
        // reopened below; a pod that is gone stops being followed when the next round drops it
      }
      if (this.stopped) return;
      if (Date.now() - openedAt > 10_000) backoffMs = 250;
      await new Promise((r) => setTimeout(r, backoffMs).unref?.());
      backoffMs = Math.min(backoffMs * 2, 5000);
    }
  }

  private async read(it: AsyncIterator<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const r = await it.next();
      if (r.done || this.stopped) return;
      buf += decoder.decode(r.value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) this.line(line);
      }
      // a line longer than any the sidecar writes is not a log line worth keeping
      if (buf.length > 1 << 20) buf = '';
    }
  }

  private line(text: string): void {
    const time = /\{"time":"([^"]+)"/.exec(text)?.[1];
    if (time) {
      if (time < this.lastTime) return;
      if (time === this.lastTime) {
        if (this.seenAtLast.has(text)) return;
      } else {
        this.lastTime = time;
        this.seenAtLast = new Set();
      }
      this.seenAtLast.add(text);
    }
    const d = decisionOfLine(text, this.from, this.seq++);
    if (d) this.onDecision(d, text);
  }
}
