/**
 * Who talks to whom: the observed traffic as a cytoscape graph, one node per workload, one edge per
 * source→target with its rate, success colour and mTLS badge, and the same edges as a table below
 * (for reading exact figures, and for keyboards). Elements are updated in place on every push; the
 * layout only runs when a node appears, so nothing the user is looking at jumps around.
 */
import cytoscape from 'cytoscape';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Topology, TopologyEdge, TopologyNode } from '../model.js';
import { HEALTH_COLOUR, healthOf, millis, percent, perSecond } from './format.js';
import { EdgePanel } from './edge-panel.js';
import { Lock } from './lock.js';

declare global {
  interface Window {
    /** the graph, for the browser tests to read (nothing of the page depends on it) */
    __tesseraCy?: cytoscape.Core;
  }
}

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      'shape': 'round-rectangle',
      'background-color': '#eef2f7',
      'border-color': '#57606a',
      'border-width': 1,
      'label': 'data(label)',
      'text-wrap': 'wrap',
      'text-valign': 'center',
      'text-halign': 'center',
      'font-size': 13,
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'color': '#1f2328',
      'width': 'data(w)',
      'height': 'data(h)',
    },
  },
  { selector: 'node[kind = "external"]', style: { 'shape': 'round-diamond', 'background-color': '#fff8e6' } },
  { selector: 'node[kind = "unknown"]', style: { 'border-style': 'dashed' } },
  // no traffic seen to or from it: drawn faint, so the talking part of the mesh stands out
  { selector: 'node[[degree = 0]]', style: { 'opacity': 0.55 } },
  {
    selector: 'edge',
    style: {
      'curve-style': 'bezier',
      'target-arrow-shape': 'triangle',
      'width': 3,
      'line-color': 'data(colour)',
      'target-arrow-color': 'data(colour)',
      'label': 'data(label)',
      'font-size': 11,
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'color': '#1f2328',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': '2px',
      'text-rotation': 'autorotate',
    },
  },
  { selector: 'edge[mtls = "no"]', style: { 'line-style': 'dashed' } },
  { selector: 'edge:selected', style: { 'width': 6, 'overlay-opacity': 0.08 } },
];

function nodeLabel(n: TopologyNode): string {
  const pods = n.podsTotal !== undefined ? ` · ${n.podsReady ?? 0}/${n.podsTotal} ready` : '';
  return n.namespace ? `${n.workload}\n${n.namespace}${pods}` : n.workload;
}

/** A box that fits the label (cytoscape's own 'label' sizing is deprecated); diamonds need more room. */
function nodeData(n: TopologyNode): Record<string, unknown> {
  const label = nodeLabel(n);
  const lines = label.split('\n');
  const wide = Math.max(...lines.map((l) => l.length)) * 7.5 + 24;
  const scale = n.kind === 'external' ? 1.6 : 1;
  return { id: n.id, label, kind: n.kind, w: Math.round(wide * scale), h: Math.round((lines.length * 16 + 16) * scale) };
}

function edgeLabel(e: TopologyEdge): string {
  const lock = e.mtls ? 'mTLS' : 'plaintext';
  return `${lock} · ${perSecond(e.rps)} · ${percent(e.successRate)}`;
}

function edgeData(e: TopologyEdge): Record<string, unknown> {
  return { id: e.id, source: e.source, target: e.target, label: edgeLabel(e), colour: HEALTH_COLOUR[healthOf(e.successRate)], mtls: e.mtls ? 'yes' : 'no', rps: e.rps };
}

/** Brings the graph to `t` in place; true when an element came or went (the layout must place it). */
function sync(cy: cytoscape.Core, t: Topology): boolean {
  let changed = false;
  const ids = new Set<string>();
  cy.batch(() => {
    for (const n of t.nodes) {
      ids.add(n.id);
      const data = nodeData(n);
      const el = cy.getElementById(n.id);
      if (el.nonempty()) el.data(data);
      else {
        cy.add({ group: 'nodes', data });
        changed = true;
      }
    }
    for (const e of t.edges) {
      // an edge whose end the server did not list would make cytoscape throw; draw what is known
      if (!ids.has(e.source) || !ids.has(e.target)) continue;
      ids.add(e.id);
      const el = cy.getElementById(e.id);
      if (el.nonempty()) el.data(edgeData(e));
      else {
        cy.add({ group: 'edges', data: edgeData(e) });
        changed = true;
      }
    }
    cy.elements().forEach((el) => {
      if (!ids.has(el.id())) {
        el.remove();
        changed = true;
      }
    });
  });
  return changed;
}

const IDLE_ROWS = 5;

/**
 * Workloads with traffic as a tree from the callers down (breadthfirst), so a call reads top to
 * bottom; workloads nobody called or was called by (the control plane, idle apps) in a column to
 * the right, where they cannot sit on an edge.
 */
function place(cy: cytoscape.Core): void {
  const busy = cy.nodes().filter((n: cytoscape.NodeSingular) => n.connectedEdges().nonempty());
  const idle = cy.nodes().difference(busy);
  if (busy.nonempty()) {
    const roots = busy.filter((n: cytoscape.NodeSingular) => n.incomers('edge').empty());
    busy.union(busy.connectedEdges()).layout({ name: 'breadthfirst', directed: true, spacingFactor: 0.9, padding: 30, animate: false, ...(roots.nonempty() ? { roots } : {}) }).run();
  }
  if (idle.nonempty()) {
    const box = busy.nonempty() ? busy.boundingBox() : { x2: -120, y1: 0 };
    const rows = Math.min(idle.length, IDLE_ROWS);
    const cols = Math.ceil(idle.length / rows);
    idle.layout({ name: 'grid', rows, cols, avoidOverlap: true, animate: false, boundingBox: { x1: box.x2 + 120, y1: box.y1, w: cols * 240, h: rows * 70 } }).run();
  }
  cy.fit(undefined, 30);
  // a small graph fitted to the box would be drawn huge
  if (cy.zoom() > 1.1) {
    cy.zoom(1.1);
    cy.center();
  }
}

export function TopologyView({ topology, visible }: { topology: Topology; visible: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const cyRef = useRef<cytoscape.Core>();
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const pending = useRef(false);

  useEffect(() => {
    const cy = cytoscape({ container: box.current!, style: STYLE, elements: [], maxZoom: 2.5, minZoom: 0.2 });
    cy.on('tap', 'edge', (ev) => setSelected(ev.target.id() as string));
    cy.on('tap', (ev) => {
      if (ev.target === cy) setSelected(undefined);
    });
    cyRef.current = cy;
    window.__tesseraCy = cy;
    return () => {
      cy.destroy();
      delete window.__tesseraCy;
    };
  }, []);

  useEffect(() => {
    const cy = cyRef.current!;
    if (!sync(cy, topology)) return;
    // a layout in a hidden (zero-sized) box is useless: place once the graph shows
    if (visible) place(cy);
    else pending.current = true;
  }, [topology]);

  useEffect(() => {
    // a graph drawn while hidden has no size; measure again when it shows
    const cy = cyRef.current;
    if (!visible || !cy) return;
    cy.resize();
    if (pending.current) {
      pending.current = false;
      place(cy);
    }
  }, [visible]);

  useEffect(() => {
    const cy = cyRef.current!;
    cy.edges().unselect();
    if (selected) cy.getElementById(selected).select();
  }, [selected]);

  const edge = topology.edges.find((e) => e.id === selected);
  const empty = topology.nodes.length === 0;
  return (
    <div class="topology">
      <div class="graph-wrap">
        <div class="graph" ref={box} data-testid="topology-graph" />
        {empty && <p class="graph-empty">No traffic seen yet. Edges appear once meshed workloads talk.</p>}
        <Legend />
      </div>
      {edge && <EdgePanel key={edge.id} edge={edge} onClose={() => setSelected(undefined)} />}
      <h2>Edges</h2>
      <table class="grid" data-testid="edges-table">
        <thead>
          <tr><th>From</th><th>To</th><th>Protocol</th><th class="num">Rate</th><th class="num">Success</th><th class="num">p50</th><th class="num">p99</th><th>mTLS</th><th class="num">Total</th></tr>
        </thead>
        <tbody>
          {topology.edges.length === 0 && <tr><td colSpan={9} class="empty">No edges yet.</td></tr>}
          {topology.edges.map((e) => (
            <tr
              key={e.id}
              class={`clickable ${selected === e.id ? 'selected' : ''}`}
              onClick={() => setSelected(e.id)}
              data-testid="edge-row"
              data-edge-id={e.id}
              data-rps={String(e.rps)}
              data-mtls={String(e.mtls)}
              data-health={healthOf(e.successRate)}
            >
              <td>{e.source}</td>
              <td>{e.target}</td>
              <td>{e.protocol}</td>
              <td class="num">{perSecond(e.rps)}</td>
              <td class="num"><span class={`pill ${healthOf(e.successRate)}`}>{percent(e.successRate)}</span></td>
              <td class="num">{millis(e.latencyMs?.p50)}</td>
              <td class="num">{millis(e.latencyMs?.p99)}</td>
              <td>{e.mtls ? <span class="badge ok"><Lock /> mTLS</span> : <span class="badge warn">plaintext</span>}</td>
              <td class="num" title={`${e.errors} errors`}>{e.requests}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-label="legend">
      <li><span class="swatch" style={{ background: HEALTH_COLOUR.healthy }} />≥ 99 %</li>
      <li><span class="swatch" style={{ background: HEALTH_COLOUR.degraded }} />≥ 95 %</li>
      <li><span class="swatch" style={{ background: HEALTH_COLOUR.failing }} />&lt; 95 %</li>
      <li><span class="swatch" style={{ background: HEALTH_COLOUR.idle }} />no traffic</li>
      <li><span class="swatch dashed" />plaintext</li>
    </ul>
  );
}
