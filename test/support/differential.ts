/**
 * Differential testing of Tessera's Kubernetes API against kube-apiserver (issue #21 part 3): the
 * same kubectl command (or raw HTTPS request) runs against two servers, each result is normalized
 * (uids, timestamps, resourceVersions, generated-name suffixes, managedFields, AGE cells, server
 * versions, cluster IPs, selfLink…) and the two are compared.
 *
 *   const d = new Differential([referenceSide(cluster, bin), tesseraSide(mesh, bin)]);
 *   const r = await d.kubectl(['get', 'cm', '-n', 'x', '-o', 'json'], { format: 'json' });
 *   assertSame(r, [KNOWN.something]);     // equality after normalization, minus documented differences
 *
 * A known difference (`Known`) is one documented in docs/kubernetes-api.md, "Measured against
 * kube-apiserver v1.37.2": it rewrites the pair of normalized results where that difference shows,
 * and must show wherever it is listed — an allowance that is no longer needed fails the comparison
 * ("stale"), so a fixed difference cannot hide a new one.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { kubeApiOf, type KubectlBinary, type KubeApi, type KubeResponse } from './kubectl.js';
import { run, type RunResult } from './mesh.js';

export type SideName = 'reference' | 'tessera';

export interface Side {
  name: SideName;
  kubeconfig: string;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  api: KubeApi;
}

// ---------------------------------------------------------------------------------------------
// Sides


/**
 * One side: `bin` (the same kubectl for both) with KUBECONFIG=`kubeconfig` and a HOME (discovery
 * cache) of its own under `homeRoot`.
 */
export function side(name: SideName, kubeconfig: string, bin: KubectlBinary, homeRoot: string): Side {
  const home = join(homeRoot, `kubectl-home-${name}`);
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, HOME: home, KUBECACHEDIR: join(home, 'cache') };
  return {
    name,
    kubeconfig,
    api: kubeApiOf(kubeconfig),
    kubectl: (args, opts = {}) =>
      run(bin.path, args, { env, timeoutMs: opts.timeoutMs ?? 60_000, ...(opts.input !== undefined ? { input: opts.input } : {}) }),
  };
}

// ---------------------------------------------------------------------------------------------
// Normalization

export interface NormalizeOptions {
  /** generateName prefixes whose 5-character suffix is replaced by `<suffix>` */
  generated?: string[];
}

const UID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
const TIMESTAMP = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;
/** an AGE (or any kubectl duration) cell: 5s, 3m2s, 10m, 2h5m, 3d, <invalid> */
const AGE = /(?<=^|\s)(?:\d+d(?:\d+h)?|\d+h(?:\d+m)?|\d+m(?:\d+s)?|\d+s|<invalid>)(?=\s|$)/gm;
const SUFFIX_ALPHABET = '[bcdfghjklmnpqrstvwxz2456789]{5}';
const VOLATILE_TIME_KEYS = new Set(['creationTimestamp', 'deletionTimestamp', 'lastTransitionTime', 'lastUpdateTime', 'lastProbeTime', 'lastHeartbeatTime', 'time', 'firstTimestamp', 'lastTimestamp', 'eventTime']);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function normalizeText(text: string, opts: NormalizeOptions = {}): string {
  let t = text.replace(UID, '<uid>').replace(TIMESTAMP, '<ts>').replace(AGE, '<age>');
  for (const prefix of opts.generated ?? []) t = t.replace(new RegExp(`${escapeRegExp(prefix)}${SUFFIX_ALPHABET}\\b`, 'g'), `${prefix}<suffix>`);
  // kubectl version / server version strings
  t = t.replace(/^(Server Version: ).*$/gm, '$1<version>');
  return t;
}

/** A JSON value with every volatile field replaced by a placeholder (managedFields and selfLink dropped). */
export function normalizeJson(value: unknown, opts: NormalizeOptions = {}): unknown {
  const walk = (v: unknown, key: string | undefined): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, undefined));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'managedFields' || k === 'selfLink') continue;
        out[k] = walk(x, k);
      }
      return out;
    }
    if (typeof v !== 'string') return v;
    if (key === 'uid') return '<uid>';
    if (key === 'resourceVersion') return v === '' ? v : '<rv>';
    if (key === 'continue') return '<continue>';
    if (key !== undefined && VOLATILE_TIME_KEYS.has(key)) return '<ts>';
    if (key === 'clusterIP') return v === 'None' ? v : '<ip>';
    if (key === 'clusterIPs') return '<ip>';
    return normalizeText(v, opts);
  };
  return walk(value, undefined);
}

// ---------------------------------------------------------------------------------------------
// Outcomes and pairs

export type Format = 'text' | 'json' | 'yaml';

/** A kubectl run, normalized: `out` is the parsed (and normalized) document for json/yaml. */
export interface Outcome {
  code: number;
  out: unknown;
  err: string;
}

export interface RawOutcome {
  status: number;
  body: unknown;
}

export type Pair<T> = Record<SideName, T>;

/**
 * Sorts each run of `* cause` lines: kube-apiserver lists the schema violations of a custom resource
 * in Go map order, which changes from one request to the next.
 */
export function sortCauses(text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('* ')) continue;
    let j = i;
    while (j < lines.length && lines[j]!.startsWith('* ')) j++;
    lines.splice(i, j - i, ...lines.slice(i, j).sort());
    i = j;
  }
  return lines.join('\n');
}

export function normalizeRun(r: RunResult, format: Format, opts: NormalizeOptions = {}): Outcome {
  let out: unknown = normalizeText(r.stdout, opts);
  if (r.code === 0 && format !== 'text' && r.stdout.trim() !== '') {
    out = normalizeJson(format === 'json' ? JSON.parse(r.stdout) : parseYaml(r.stdout), opts);
  }
  return { code: r.code, out, err: sortCauses(normalizeText(r.stderr, opts)) };
}

export function normalizeRaw(r: KubeResponse, opts: NormalizeOptions = {}): RawOutcome {
  return { status: r.status, body: r.json === undefined ? normalizeText(r.text, opts) : normalizeJson(r.json, opts) };
}

export class Differential {
  constructor(readonly sides: Pair<Side>) {}

  /** runs `fn` on both sides at once */
  async each<T>(fn: (s: Side) => Promise<T>): Promise<Pair<T>> {
    const [reference, tessera] = await Promise.all([fn(this.sides.reference), fn(this.sides.tessera)]);
    return { reference, tessera };
  }

  kubectl(args: string[], opts: { input?: string; format?: Format; timeoutMs?: number } & NormalizeOptions = {}): Promise<Pair<Outcome>> {
    const runOpts: { input?: string; timeoutMs?: number } = {};
    if (opts.input !== undefined) runOpts.input = opts.input;
    if (opts.timeoutMs !== undefined) runOpts.timeoutMs = opts.timeoutMs;
    return this.each(async (s) => normalizeRun(await s.kubectl(args, runOpts), opts.format ?? 'text', opts));
  }

  raw(method: string, path: string, opts: Parameters<KubeApi['request']>[2] & NormalizeOptions = {}): Promise<Pair<RawOutcome>> {
    return this.each(async (s) => normalizeRaw(await s.api.request(method, path, opts), opts));
  }
}

// ---------------------------------------------------------------------------------------------
// Known differences and the comparison

/**
 * A documented difference: `apply` rewrites the pair where the difference shows (usually removing
 * a field one side has) and returns whether it found it. Each one names its line in the docs.
 */
export interface Known<T = unknown> {
  id: string;
  /** the doc's wording, in short */
  doc: string;
  apply(pair: Pair<T>): boolean;
}

/** Deletes `path` (dot-separated; `*` for every array item) from `v`; whether anything was there. */
export function dropPath(v: unknown, path: string): boolean {
  const parts = path.split('.');
  // `*` applies to the current array: step into it before consuming the next part
  const goStar = (x: unknown, i: number): boolean => {
    if (i >= parts.length) return false;
    if (parts[i] === '*') return Array.isArray(x) ? x.map((e) => goStar(e, i + 1)).some(Boolean) : false;
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
    const obj = x as Record<string, unknown>;
    const p = parts[i]!;
    if (i === parts.length - 1) {
      if (!(p in obj)) return false;
      delete obj[p];
      return true;
    }
    return p in obj && goStar(obj[p], i + 1);
  };
  return goStar(v, 0);
}

/** Renders a pair as the diff-friendly text assert prints. */
function show(v: unknown): string {
  return typeof v === 'string' ? v : stringifyYaml(v);
}

/**
 * Asserts the two normalized results are equal once the listed known differences are taken out;
 * a listed difference that does not show fails too (it was fixed: remove it from the list).
 */
export function assertSame<T>(pair: Pair<T>, known: Known<T>[] = [], what = ''): void {
  const p = structuredClone(pair);
  const stale = known.filter((k) => !k.apply(p)).map((k) => k.id);
  assert.deepEqual(
    p.tessera,
    p.reference,
    `${what}: tessera (actual) differs from kube-apiserver (expected)\n--- kube-apiserver\n${show(p.reference)}\n--- tessera\n${show(p.tessera)}`,
  );
  assert.deepEqual(stale, [], `${what}: known differences listed that did not show (fixed? remove them): ${stale.join(', ')}`);
}
