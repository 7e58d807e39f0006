/** The mesh's objects per namespace with their status; those with validation warnings stand out, warnings listed. */
import type { ResourceView } from '../model.js';

const CLUSTER = '(cluster)';

export function ResourcesView({ resources }: { resources: ResourceView[] }) {
  const byNs = new Map<string, ResourceView[]>();
  for (const r of resources) {
    const ns = r.namespace ?? CLUSTER;
    byNs.set(ns, [...(byNs.get(ns) ?? []), r]);
  }
  const namespaces = [...byNs.keys()].sort((a, b) => (a === CLUSTER ? -1 : b === CLUSTER ? 1 : a.localeCompare(b)));
  const warned = resources.filter((r) => r.warnings.length > 0).length;

  return (
    <div class="resources">
      <p class="summary">
        {resources.length} object{resources.length === 1 ? '' : 's'} in {namespaces.length} namespace{namespaces.length === 1 ? '' : 's'}
        {warned > 0 && <span class="pill warn" data-testid="warned-count">{warned} with warnings</span>}
      </p>
      {resources.length === 0 && <p class="empty">No mesh objects.</p>}
      {namespaces.map((ns) => (
        <section key={ns} class="ns" data-testid="resource-namespace" data-namespace={ns}>
          <h2>{ns}</h2>
          <table class="grid fixed">
            <colgroup><col class="c-kind" /><col class="c-name" /><col class="c-api" /><col /></colgroup>
            <thead><tr><th>Kind</th><th>Name</th><th>API version</th><th>Status</th></tr></thead>
            <tbody>
              {byNs.get(ns)!
                .slice()
                .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))
                .map((r) => (
                  <tr key={`${r.apiVersion}/${r.kind}/${r.name}`} class={r.warnings.length > 0 ? 'warned' : ''} data-testid="resource-row" data-kind={r.kind} data-name={r.name} data-warnings={String(r.warnings.length)}>
                    <td>{r.kind}</td>
                    <td class="mono">{r.name}</td>
                    <td class="mono small">{r.apiVersion}</td>
                    <td>
                      {r.status ?? '–'}
                      {r.warnings.length > 0 && (
                        <ul class="warnings" data-testid="resource-warnings">
                          {r.warnings.map((w, i) => <li key={i}>⚠ {w}</li>)}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
