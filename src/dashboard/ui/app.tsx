/** The page: a header (mesh, time of the data, connection), four views chosen by the URL's hash. */
import { useEffect, useState } from 'preact/hooks';
import { useLive, type Connection } from './live.js';
import { clock } from './format.js';
import { TopologyView } from './topology.js';
import { ProxiesView } from './proxies.js';
import { DecisionsView } from './decisions.js';
import { ResourcesView } from './resources.js';

const VIEWS = [
  { id: 'topology', title: 'Topology' },
  { id: 'proxies', title: 'Proxies' },
  { id: 'decisions', title: 'Decisions' },
  { id: 'resources', title: 'Resources' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

function viewOfHash(): ViewId {
  const h = location.hash.replace(/^#/, '');
  return VIEWS.find((v) => v.id === h)?.id ?? 'topology';
}

export function App() {
  const { state, pushed, connection } = useLive();
  const [view, setView] = useState<ViewId>(viewOfHash());
  useEffect(() => {
    const onHash = (): void => setView(viewOfHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  return (
    <>
      <header class="top">
        <h1>
          <span class="brand">Tessera</span>
          <span class="mesh" data-testid="mesh-name">{state?.meshName ?? '…'}</span>
        </h1>
        <nav class="tabs" role="tablist">
          {VIEWS.map((v) => (
            <a key={v.id} href={`#${v.id}`} role="tab" aria-selected={view === v.id} class={view === v.id ? 'tab active' : 'tab'} data-testid={`tab-${v.id}`}>
              {v.title}
            </a>
          ))}
        </nav>
        <div class="meta">
          {state && <span class="generated" data-testid="generated-at" title={state.generatedAt}>data of {clock(state.generatedAt)}</span>}
          <Indicator connection={connection} />
        </div>
      </header>
      {state && state.problems.length > 0 && (
        <details class="problems" data-testid="problems">
          <summary>{state.problems.length} source{state.problems.length === 1 ? '' : 's'} could not be read this round</summary>
          <ul>{state.problems.map((p, i) => <li key={i}>{p}</li>)}</ul>
        </details>
      )}
      <main>
        {!state ? (
          <p class="empty" data-testid="loading">
            {connection === 'signed-out' ? 'Not signed in: open the URL `tessera dashboard` printed.' : 'Waiting for the first data from the server…'}
          </p>
        ) : (
          <>
            {/* The graph stays mounted so its layout and zoom survive switching views. */}
            <section hidden={view !== 'topology'} data-testid="view-topology">
              <TopologyView topology={state.topology} visible={view === 'topology'} />
            </section>
            {view === 'proxies' && <section data-testid="view-proxies"><ProxiesView proxies={state.proxies} now={state.generatedAt} /></section>}
            {view === 'decisions' && <section data-testid="view-decisions"><DecisionsView view={state.decisions} pushed={pushed} /></section>}
            {view === 'resources' && <section data-testid="view-resources"><ResourcesView resources={state.resources} /></section>}
          </>
        )}
      </main>
    </>
  );
}

function Indicator({ connection }: { connection: Connection }) {
  const text = connection === 'signed-out' ? 'signed out' : connection;
  const hint = connection === 'signed-out' ? 'The server no longer knows this session: open the URL `tessera dashboard` printed.' : undefined;
  return (
    <span class={`conn ${connection}`} data-testid="connection" data-state={connection} role="status" title={hint}>
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}
