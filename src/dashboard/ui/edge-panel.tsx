/**
 * One edge's golden metrics over time (rate, success, latency), from /api/edges/<id>/series, fetched
 * again every 2 s while the panel is open. uPlot draws them; the charts are rebuilt only when the
 * panel opens on another edge, and fed new data in place otherwise.
 */
import uPlot from 'uplot';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EdgeSeries, TopologyEdge } from '../model.js';
import { Lock } from './lock.js';
import { HEALTH_COLOUR, healthOf, millis, percent, perSecond } from './format.js';

const REFRESH_MS = 2_000;

type Columns = [number[], ...(number | null)[][]];

function columns(s: EdgeSeries): { rps: Columns; success: Columns; latency: Columns } {
  const t = s.points.map((p) => Date.parse(p.t) / 1000);
  return {
    rps: [t, s.points.map((p) => p.rps)],
    success: [t, s.points.map((p) => (p.successRate === null ? null : p.successRate * 100))],
    latency: [t, s.points.map((p) => p.p50Ms ?? null), s.points.map((p) => p.p99Ms ?? null)],
  };
}

export function EdgePanel({ edge, onClose }: { edge: TopologyEdge; onClose: () => void }) {
  const [series, setSeries] = useState<EdgeSeries | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setSeries(undefined);
    const load = async (): Promise<void> => {
      try {
        const r = await fetch(`api/edges/${encodeURIComponent(edge.id)}/series`, { credentials: 'same-origin' });
        // 404: no traffic on the edge within the server's history; an empty chart, not an error
        if (!r.ok && r.status !== 404) throw new Error(`the server answered ${r.status}`);
        const s: EdgeSeries = r.ok ? ((await r.json()) as EdgeSeries) : { edgeId: edge.id, points: [] };
        if (!stopped) {
          setSeries(s);
          setError(undefined);
        }
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
      if (!stopped) timer = setTimeout(() => void load(), REFRESH_MS);
    };
    void load();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [edge.id]);

  const cols = series ? columns(series) : undefined;
  return (
    <aside class="edge-panel" data-testid="edge-panel" data-edge-id={edge.id}>
      <header>
        <h2>
          {edge.source} <span class="arrow">→</span> {edge.target}
        </h2>
        <button type="button" class="close" onClick={onClose} aria-label="close">×</button>
      </header>
      <dl class="figures">
        <div><dt>Rate</dt><dd data-testid="edge-rps">{perSecond(edge.rps)}</dd></div>
        <div><dt>Success</dt><dd><span class={`pill ${healthOf(edge.successRate)}`}>{percent(edge.successRate)}</span></dd></div>
        <div><dt>p50 / p99</dt><dd>{millis(edge.latencyMs?.p50)} / {millis(edge.latencyMs?.p99)}</dd></div>
        <div><dt>Security</dt><dd>{edge.mtls ? <><Lock /> mutual TLS</> : 'plaintext'}</dd></div>
        <div><dt>Since start</dt><dd>{edge.requests} {edge.protocol === 'http' ? 'requests' : 'connections'}, {edge.errors} errors</dd></div>
      </dl>
      {error && <p class="error">Could not load the series: {error}</p>}
      {cols && cols.rps[0].length === 0 && <p class="empty">No points yet.</p>}
      {cols && cols.rps[0].length > 0 && (
        <div class="charts" data-testid="edge-charts">
          <Chart title={edge.protocol === 'http' ? 'Requests per second' : 'Connections per second'} data={cols.rps} series={[{ label: 'rps', stroke: '#0969da', fill: 'rgba(9,105,218,0.1)' }]} />
          <Chart title="Success rate (%)" data={cols.success} series={[{ label: 'success %', stroke: HEALTH_COLOUR.healthy }]} range={[0, 100]} />
          <Chart title="Latency (ms)" data={cols.latency} series={[{ label: 'p50', stroke: '#8250df' }, { label: 'p99', stroke: '#cf222e' }]} />
        </div>
      )}
    </aside>
  );
}

function Chart({ title, data, series, range }: { title: string; data: Columns; series: uPlot.Series[]; range?: [number, number] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>();

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(260, el.clientWidth || 320),
      height: 160,
      series: [{}, ...series.map((s) => ({ ...s, width: 2, spanGaps: false }))],
      scales: range ? { y: { range } } : {},
      // one HH:MM:SS label per tick: uPlot's default two-line date labels overlap when the data moves
      axes: [{ space: 90, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false })) }, { size: 50 }],
      legend: { live: true },
    };
    plot.current = new uPlot(opts, data as uPlot.AlignedData, el);
    return () => {
      plot.current?.destroy();
      plot.current = undefined;
    };
    // built once per panel; data flows in below
  }, []);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
