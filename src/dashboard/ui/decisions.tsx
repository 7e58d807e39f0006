/**
 * Why was this refused: refusals newest first (the state's recent list merged with those pushed
 * one by one since the page loaded), narrowed by namespace, workload and free text; and per policy
 * how many requests it allowed and refused.
 */
import { useMemo, useState } from 'preact/hooks';
import type { Decision, DecisionsView as View } from '../model.js';
import { clock } from './format.js';
import { matchesText, mergeDecisions } from './feed.js';

const MAX_ROWS = 300;

export function DecisionsView({ view, pushed }: { view: View; pushed: Decision[] }) {
  const [ns, setNs] = useState('');
  const [workload, setWorkload] = useState('');
  const [text, setText] = useState('');
  const all = useMemo(() => mergeDecisions(pushed, view.recent), [pushed, view.recent]);
  const namespaces = useMemo(() => [...new Set(all.map((d) => d.namespace))].sort(), [all]);
  const workloads = useMemo(() => [...new Set(all.filter((d) => !ns || d.namespace === ns).map((d) => d.workload))].sort(), [all, ns]);
  const shown = all.filter((d) => (!ns || d.namespace === ns) && (!workload || d.workload === workload) && matchesText(d, text));

  return (
    <div class="decisions">
      <div class="filters">
        <label>
          Namespace
          <select value={ns} onChange={(e) => { setNs(e.currentTarget.value); setWorkload(''); }} data-testid="filter-namespace">
            <option value="">all</option>
            {namespaces.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <label>
          Workload
          <select value={workload} onChange={(e) => setWorkload(e.currentTarget.value)} data-testid="filter-workload">
            <option value="">all</option>
            {workloads.map((w) => <option key={w} value={w}>{w}</option>)}
          </select>
        </label>
        <label class="grow">
          Filter
          <input type="search" placeholder="policy, path, reason…" value={text} onInput={(e) => setText(e.currentTarget.value)} data-testid="filter-text" />
        </label>
        <span class="count" data-testid="decisions-count">{shown.length} of {all.length}</span>
      </div>
      <table class="grid" data-testid="decisions-table">
        <thead>
          <tr><th>Time</th><th>Workload</th><th>Kind</th><th>Policy</th><th>Rule</th><th>Reason</th><th>Request</th><th class="num">Status</th></tr>
        </thead>
        <tbody>
          {shown.length === 0 && <tr><td colSpan={8} class="empty">No refusals{all.length > 0 ? ' match the filters' : ' seen'}.</td></tr>}
          {shown.slice(0, MAX_ROWS).map((d) => (
            <tr key={d.id} data-testid="decision-row" data-decision-id={d.id} data-policy={d.policy ?? ''}>
              <td class="mono" title={d.time}>{clock(d.time)}</td>
              <td>
                {d.namespace}/{d.workload}
                <div class="small">{d.direction} {d.protocol}{d.principal ? ` from ${d.principal}` : ''}</div>
              </td>
              <td><span class="badge">{d.kind}</span></td>
              <td class="mono nowrap" data-testid="decision-policy">{d.policy ?? '–'}</td>
              <td class="mono">{d.rule ?? '–'}</td>
              <td class="wrap">{d.reason}</td>
              <td class="mono wrap">{d.method ? `${d.method} ` : ''}{d.authority ?? ''}{d.path ?? ''}</td>
              <td class="num">{d.status ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Decisions per policy</h2>
      <table class="grid counters" data-testid="counters-table">
        <thead><tr><th>Policy</th><th>Kind</th><th class="num">Allowed</th><th class="num">Refused</th><th>Share refused</th></tr></thead>
        <tbody>
          {view.counters.length === 0 && <tr><td colSpan={5} class="empty">No policy has decided anything yet.</td></tr>}
          {view.counters.map((c) => {
            const total = c.allow + c.deny;
            const share = total === 0 ? 0 : c.deny / total;
            return (
              <tr key={c.policy + c.kind} data-testid="counter-row" data-policy={c.policy}>
                <td class="mono">{c.policy}</td>
                <td>{c.kind}</td>
                <td class="num">{c.allow}</td>
                <td class="num">{c.deny}</td>
                <td><span class="bar" title={`${(share * 100).toFixed(1)} %`}><span class="fill" style={{ width: `${share * 100}%` }} /></span></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
