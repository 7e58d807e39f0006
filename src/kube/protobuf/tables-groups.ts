/**
 * The named-group messages kubectl's typed clients send: apps/v1 Deployment, authentication/v1
 * TokenRequest (`kubectl create token`), autoscaling/v1 Scale (`kubectl scale`) and policy/v1
 * Eviction (`kubectl drain`). Numbers from each group's generated.proto, JSON names and
 * pointer-ness from its types.go.
 */
import type { MessageTable } from './schema.js';

export const GROUPS_TABLE: MessageTable = {
  Deployment: { 1: 'metadata ObjectMeta', 2: 'spec DeploymentSpec', 3: 'status DeploymentStatus' },
  DeploymentSpec: {
    1: 'replicas *int32',
    2: 'selector *LabelSelector',
    3: 'template PodTemplateSpec',
    4: 'strategy DeploymentStrategy',
    5: 'minReadySeconds int32',
    6: 'revisionHistoryLimit *int32',
    7: 'paused bool',
    9: 'progressDeadlineSeconds *int32',
  },
  DeploymentStrategy: { 1: 'type string', 2: 'rollingUpdate *RollingUpdateDeployment' },
  RollingUpdateDeployment: { 1: 'maxUnavailable *IntOrString', 2: 'maxSurge *IntOrString' },
  DeploymentStatus: {
    1: 'observedGeneration int64',
    2: 'replicas int32',
    3: 'updatedReplicas int32',
    4: 'availableReplicas int32',
    5: 'unavailableReplicas int32',
    6: 'conditions []DeploymentCondition',
    7: 'readyReplicas int32',
    8: 'collisionCount *int32',
    9: 'terminatingReplicas *int32',
  },
  DeploymentCondition: {
    1: 'type string',
    2: 'status string',
    4: 'reason string',
    5: 'message string',
    6: 'lastUpdateTime Time',
    7: 'lastTransitionTime Time',
  },

  TokenRequest: { 1: 'metadata ObjectMeta', 2: 'spec TokenRequestSpec', 3: 'status TokenRequestStatus' },
  TokenRequestSpec: { 1: 'audiences []string', 3: 'boundObjectRef *BoundObjectReference', 4: 'expirationSeconds *int64' },
  // generated.proto calls field 4 `uID`; its JSON name is `uid`.
  BoundObjectReference: { 1: 'kind string', 2: 'apiVersion string', 3: 'name string', 4: 'uid string' },
  TokenRequestStatus: { 1: 'token string', 2: 'expirationTimestamp Time' },

  Scale: { 1: 'metadata ObjectMeta', 2: 'spec ScaleSpec', 3: 'status ScaleStatus' },
  ScaleSpec: { 1: 'replicas int32' },
  ScaleStatus: { 1: 'replicas int32', 2: 'selector string' },

  Eviction: { 1: 'metadata ObjectMeta', 2: 'deleteOptions *DeleteOptions' },
};
