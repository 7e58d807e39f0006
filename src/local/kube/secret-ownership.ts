/**
 * What the mesh's controller may do to Secrets. Its role must let it create, update and delete
 * Secrets in any namespace (an AccessCert names where its Secret goes), and RBAC cannot say "only the
 * Secrets you issued" — so admission does: the controller writes only Secrets that carry its
 * AccessCert owner annotation (before and after the write) and its own CA bundle in `<mesh>-system`.
 */
import type { Resource } from '../../api/types.js';
import { ACCESS_CERT_OWNER_ANNOTATION } from '../../control-plane/access-certs.js';
import { caBundleSecretName, meshSystemNamespace } from '../../identity/ca-secret.js';
import { StatusError, type AdmissionRequest } from '../../kube/apiserver/index.js';

export function controllerUser(meshName: string): string {
  return `system:serviceaccount:${meshSystemNamespace(meshName)}:${meshName}-controller`;
}

function issuedByController(s: Resource | undefined): boolean {
  return s?.metadata.annotations?.[ACCESS_CERT_OWNER_ANNOTATION] !== undefined;
}

function isCaBundle(s: Resource | undefined, meshName: string): boolean {
  return s?.metadata.namespace === meshSystemNamespace(meshName) && s.metadata.name === caBundleSecretName(meshName);
}

/** Throws Forbidden when the controller would write a Secret that is not its own. */
export function checkControllerSecretWrite(req: AdmissionRequest, meshName: string): void {
  if (req.type.group !== '' || req.type.kind !== 'Secret' || req.user.username !== controllerUser(meshName)) return;
  const target = req.object ?? req.oldObject;
  const own = (s: Resource | undefined): boolean => isCaBundle(s, meshName) || issuedByController(s);
  // An update must find the Secret already the controller's: adding the annotation takes nothing over.
  const allowed = req.operation === 'CREATE' ? own(req.object) : own(req.oldObject) && (req.operation === 'DELETE' || own(req.object));
  if (allowed) return;
  const name = target?.metadata.name ?? '';
  throw new StatusError('Forbidden', `secrets "${name}" is forbidden: User "${req.user.username}" may write only the Secrets the mesh controller issues (AccessCert Secrets, the CA bundle), not this one`, { name, kind: 'secrets' });
}
