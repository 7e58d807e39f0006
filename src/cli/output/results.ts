/** The one-line reports of mutating commands: `deployment.apps/httpbin configured`, `pod "x" deleted`. */
import type { ApplyResult } from '../../local/api-contract.js';
import { qualifiedKind } from './names.js';

/** apply/create/patch/restart line: `namespace/curl created`. */
export function resultLine(r: ApplyResult): string {
  return `${qualifiedKind(r.kind)}/${r.name} ${r.action}\n`;
}

/** delete line, kubectl's quoted form: `deployment.apps "httpbin" deleted`. */
export function deletedLine(r: Pick<ApplyResult, 'kind' | 'name'>): string {
  return `${qualifiedKind(r.kind)} "${r.name}" deleted\n`;
}
