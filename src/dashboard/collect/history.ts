/** Each edge's points over a bounded window, for the edge's golden-metrics chart. */
import type { EdgeSeries, Topology } from '../model.js';

export class EdgeHistory {
  private readonly series = new Map<string, EdgeSeries['points']>();

  /** `windowMs`: how far back points are kept; `maxPoints` bounds each edge whatever the interval. */
  constructor(private readonly windowMs = 15 * 60_000, private readonly maxPoints = 1800) {}

  record(at: Date, topology: Topology): void {
    const t = at.toISOString();
    const cutoff = at.getTime() - this.windowMs;
    for (const e of topology.edges) {
      const points = this.series.get(e.id) ?? [];
      const p: EdgeSeries['points'][number] = { t, rps: e.rps, successRate: e.successRate };
      if (e.latencyMs) {
        p.p50Ms = e.latencyMs.p50;
        p.p99Ms = e.latencyMs.p99;
      }
      points.push(p);
      this.series.set(e.id, points);
    }
    for (const [id, points] of this.series) {
      let drop = 0;
      while (drop < points.length && Date.parse(points[drop]!.t) < cutoff) drop++;
      drop = Math.max(drop, points.length - this.maxPoints);
      if (drop > 0) points.splice(0, drop);
      if (points.length === 0) this.series.delete(id);
    }
  }

  get(edgeId: string): EdgeSeries | undefined {
    const points = this.series.get(edgeId);
    return points ? { edgeId, points: [...points] } : undefined;
  }
}
