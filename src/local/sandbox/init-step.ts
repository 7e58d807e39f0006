/**
 * The injected init container that installs the interception rules in a pod's network namespace, as
 * FSM's `fsm-init` does: `/bin/sh -c` running `iptables-restore --noflush` on a here-document (and
 * `ip6tables-restore` where the kernel has IPv6), with NET_ADMIN and uid 0. The Kubernetes injector
 * puts it into every injected pod; on a cluster the image's shell runs it.
 *
 * The local runtimes (tessera node) never run the script through a shell: `parseInitScript` accepts
 * exactly the text `initScript` writes and hands back the two restore documents, which the node loads
 * into the pod's namespace itself. Anything else is refused, so a pod spec cannot turn "the init
 * step" into a root shell on the node.
 */
import type { Container } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import { annotationsToInterception, interceptionRules } from './interception.js';

export const INIT_CONTAINER_NAME = 'fsm-init';
/** The uid the sidecar runs as; the rules let its own connections through unredirected. */
export const SIDECAR_PROXY_UID = 1500;

const V4_HEAD = 'iptables-restore --noflush <<\'EOF\'';
const V6_HEAD = 'if [ -e /proc/net/if_inet6 ]; then ip6tables-restore --noflush <<\'EOF\'';
const V6_TAIL = 'fi';

/** The restore documents an init step loads. */
export interface InitRules {
  ipv4: string;
  ipv6: string;
}

/** FSM's rules for a pod with these annotations (throws MESH_ERR_MANIFEST_INVALID on a bad annotation). */
export function initRules(annotations: Record<string, string> | undefined, proxyUid = SIDECAR_PROXY_UID): InitRules {
  const options = annotationsToInterception(annotations);
  return {
    ipv4: interceptionRules({ proxyUid, ipv6: false, ...options }),
    ipv6: interceptionRules({ proxyUid, ipv6: true, ...options }),
  };
}

function heredoc(doc: string): string {
  // interceptionRules ends with a newline; the terminator sits on its own line
  return doc.endsWith('\n') ? doc : `${doc}\n`;
}

/** The shell text of the init container (`/bin/sh -c <this>`). */
export function initScript(rules: InitRules): string {
  return `${V4_HEAD}\n${heredoc(rules.ipv4)}EOF\n${V6_HEAD}\n${heredoc(rules.ipv6)}EOF\n${V6_TAIL}\n`;
}

/** The init container for a pod with these annotations, in the image the sidecar uses. */
export function initContainer(image: string, annotations: Record<string, string> | undefined): Container {
  return {
    name: INIT_CONTAINER_NAME,
    image,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh'],
    args: ['-c', initScript(initRules(annotations))],
    securityContext: {
      capabilities: { add: ['NET_ADMIN'] },
      privileged: false,
      runAsNonRoot: false,
      runAsUser: 0,
    },
  };
}

function refused(pod: string, why: string): MeshError {
  return new MeshError('MESH_ERR_MANIFEST_INVALID', `pod ${pod}: init container ${INIT_CONTAINER_NAME}: ${why}`, {
    problems: [{ resource: `Pod/${pod}`, field: `spec.initContainers[${INIT_CONTAINER_NAME}]`, message: why }],
  });
}

/**
 * The restore documents of an init container written by `initContainer`; throws when the container
 * is anything else (another command, extra shell text, a document that is not a nat table).
 */
export function parseInitScript(container: Pick<Container, 'command' | 'args'>, pod: string): InitRules {
  const command = container.command ?? [];
  const args = container.args ?? [];
  if (command.length !== 1 || command[0] !== '/bin/sh' || args.length !== 2 || args[0] !== '-c') {
    throw refused(pod, 'the local runtime runs only the injected iptables step (/bin/sh -c "iptables-restore --noflush <<\'EOF\' …")');
  }
  const lines = args[1]!.split('\n');
  let i = 0;
  const expect = (line: string): void => {
    if (lines[i] !== line) throw refused(pod, `line ${i + 1}: expected ${JSON.stringify(line)}, found ${JSON.stringify(lines[i] ?? '<end>')}`);
    i++;
  };
  const doc = (): string => {
    const start = i;
    while (i < lines.length && lines[i] !== 'EOF') i++;
    if (i >= lines.length) throw refused(pod, `line ${start}: here-document without its EOF line`);
    const body = lines.slice(start, i);
    i++;
    for (const [n, l] of body.entries()) {
      // a restore document only: comments, the table, chain declarations, rules and COMMIT
      if (!(l === '' || l.startsWith('#') || l === '*nat' || l === 'COMMIT' || /^:[A-Z_]+ - \[0:0\]$/.test(l) || /^-A [A-Z_]+ [-\w ./:,!]+$/.test(l))) {
        throw refused(pod, `line ${start + n + 1}: not an iptables-restore line of the nat table: ${JSON.stringify(l)}`);
      }
    }
    if (!body.includes('*nat') || !body.includes('COMMIT')) throw refused(pod, `line ${start}: the document is not one nat table with COMMIT`);
    return `${body.join('\n')}\n`;
  };
  expect(V4_HEAD);
  const ipv4 = doc();
  expect(V6_HEAD);
  const ipv6 = doc();
  expect(V6_TAIL);
  if (lines.slice(i).some((l) => l !== '')) throw refused(pod, `line ${i + 1}: text after the init step`);
  return { ipv4, ipv6 };
}
