/** HTTP from inside a pod: the status codes of several `curl` runs, in one `tessera exec`. */
import assert from 'node:assert/strict';
import type { TestMesh } from './mesh.js';

/**
 * Runs `curl -s -m 10 -o /dev/null -w '%{http_code}' ARGS` in `pod` (namespace `ns`) once per
 * [name, ARGS] call, in one `sh -c`; returns the status code by name. The exec must succeed.
 */
export async function statusCodes(mesh: TestMesh, ns: string, pod: string, calls: [name: string, args: string][], timeoutMs = 60_000): Promise<Record<string, string>> {
  const script = calls.map(([name, args]) => `printf '%s=' ${name}; curl -s -m 10 -o /dev/null -w '%{http_code}\\n' ${args}`).join('\n');
  const r = await mesh.tessera(['exec', pod, '-n', ns, '--', 'sh', '-c', script], { timeoutMs });
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
}
