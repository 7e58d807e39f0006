/**
 * `policy.flomesh.io/v1alpha1` AccessControl and AccessCert as Tessera stores them after validation
 * (fsm-design.md §1.4): how clients outside the mesh are let in, and their client certificates.
 */
import type { Resource } from './types.js';

export type AccessControlSourceKind = 'Service' | 'IPRange' | 'AuthenticatedPrincipal';

export interface AccessControlSource {
  kind: AccessControlSourceKind;
  /** Service name, CIDR, or principal (a certificate CN or SAN) */
  name: string;
  /** Service sources only */
  namespace?: string;
}

export interface AccessControlBackendTls {
  skipClientCertValidation: boolean;
  sniHosts?: string[];
}

export interface AccessControlBackend {
  /** a Service in the AccessControl's own namespace */
  name: string;
  /** `number` is the Service's targetPort (FSM's rule) */
  port: { number: number; protocol: string };
  /** present: the client must speak mTLS with an AccessCert certificate; absent: plaintext */
  tls?: AccessControlBackendTls;
}

export interface AccessControlSpec {
  backends?: AccessControlBackend[];
  sources: AccessControlSource[];
  /** declared by FSM but never used (a TODO in its code); kept as given */
  matches?: unknown[];
}
/**
 * FSM's status of an AccessControl: `committed` ("successfully committed by the system") when it
 * takes effect as written, `error` with the reason when some part of it cannot.
 */
export interface AccessControlStatus {
  currentStatus: 'committed' | 'error';
  reason: string;
}
export type AccessControl = Resource<AccessControlSpec, Partial<AccessControlStatus>>;

export interface AccessCertSpec {
  /** the first is also the certificate's CN */
  subjectAltNames: string[];
  /** where the `kubernetes.io/tls` Secret is written */
  secret: { name: string; namespace: string };
}
export type AccessCert = Resource<AccessCertSpec, { currentStatus?: string; reason?: string }>;
