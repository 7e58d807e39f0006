/**
 * The shapes the authorizer works on: request attributes as kube-apiserver builds them
 * (`authorizer.Attributes`), the decision, and the rbac.authorization.k8s.io/v1 objects it reads.
 */

export interface AuthUser {
  username: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** What is asked: a resource request (verb on group/resource[/subresource] in a namespace) or a path. */
export interface AuthorizationAttributes {
  /** true for `/api/...` and `/apis/...` resource paths */
  resourceRequest: boolean;
  /** get, list, watch, create, update, patch, delete, deletecollection, impersonate, … (lowercase) */
  verb: string;
  apiGroup: string;
  apiVersion: string;
  /** the plural resource (`pods`) */
  resource: string;
  subresource: string;
  /** '' for cluster-scoped requests and requests across all namespaces */
  namespace: string;
  name: string;
  /** the request's path (what nonResourceURLs match) */
  path: string;
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** why, as kube-apiserver's RBAC authorizer words it (`RBAC: allowed by …`), '' when it has nothing to say */
  reason?: string;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount' | string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole' | string;
  name: string;
}

/** metav1.LabelSelector; an unknown operator matches nothing (src/api/labels.ts). */
import type { LabelSelector } from '../../api/types.js';
export type { LabelSelector };

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RoleObject {
  apiVersion: string;
  kind: 'Role' | 'ClusterRole';
  metadata: Meta;
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] };
}

export interface BindingObject {
  apiVersion: string;
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  metadata: Meta;
  subjects?: Subject[];
  roleRef: RoleRef;
}

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const RBAC_API_VERSION = `${RBAC_GROUP}/v1`;
export const RBAC_KINDS = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'] as const;
