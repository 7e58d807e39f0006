/**
 * Builds the `AccessLog` section: for each side of one pod, the access-log rule of the most specific
 * Telemetry covering it — a Telemetry in the pod's namespace whose selector matches its labels, then
 * one without a selector in the pod's namespace, then one without a selector in the root namespace
 * (`<mesh>-system`), as Istio resolves Telemetry. Within a level the first by name wins (Istio takes
 * the oldest; names are stable where creation times are not), and within a Telemetry the first
 * `accessLogging` entry whose `match.mode` covers the side.
 */
import type { Pod } from '../api/types.js';
import type { AccessLogging, Telemetry, WorkloadMode } from '../api/telemetry-types.js';
import { keyOf, podNamespace } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';
import type { AccessLogRule, ProxySnapshot } from './types.js';

type Side = 'SERVER' | 'CLIENT';

const covers = (mode: WorkloadMode | undefined, side: Side): boolean => mode === undefined || mode === 'CLIENT_AND_SERVER' || mode === side;

function entryFor(t: Telemetry, side: Side): AccessLogging | undefined {
  return t.spec?.accessLogging?.find((e) => covers(e.match?.mode, side));
}

function ruleOf(t: Telemetry, e: AccessLogging): AccessLogRule {
  return {
    Policy: keyOf(t.metadata.namespace ?? 'default', t.metadata.name),
    ...(e.disabled === true ? { Disabled: true } : {}),
    ...(e.filter?.expression ? { Filter: e.filter.expression } : {}),
    ...(e.randomSamplingPercentage !== undefined && e.randomSamplingPercentage < 100 ? { SamplePercent: e.randomSamplingPercentage } : {}),
  };
}

/** The Telemetries that may apply to the pod, most specific level first. */
function levels(catalog: Catalog, pod: Pod): Telemetry[][] {
  const ns = podNamespace(pod);
  const root = `${catalog.meshName}-system`;
  const labels = pod.metadata.labels ?? {};
  const inNs = (n: string): Telemetry[] => catalog.istio.telemetries.filter((t) => (t.metadata.namespace ?? 'default') === n);
  const selected = (t: Telemetry): boolean => {
    const m = t.spec?.selector?.matchLabels;
    return m !== undefined && Object.keys(m).length > 0 && Object.entries(m).every(([k, v]) => labels[k] === v);
  };
  const namespaceWide = (t: Telemetry): boolean => Object.keys(t.spec?.selector?.matchLabels ?? {}).length === 0;
  const own = inNs(ns);
  const out = [own.filter(selected), own.filter(namespaceWide)];
  if (ns !== root) out.push(inNs(root).filter(namespaceWide));
  return out;
}

export function buildAccessLog(catalog: Catalog, pod: Pod): ProxySnapshot['AccessLog'] {
  if (catalog.istio.telemetries.length === 0) return undefined;
  const candidates = levels(catalog, pod);
  const pick = (side: Side): AccessLogRule => {
    for (const level of candidates) {
      for (const t of level) {
        const e = entryFor(t, side);
        if (e) return ruleOf(t, e);
      }
    }
    return {};
  };
  const Inbound = pick('SERVER');
  const Outbound = pick('CLIENT');
  return Inbound.Policy === undefined && Outbound.Policy === undefined ? undefined : { Inbound, Outbound };
}
