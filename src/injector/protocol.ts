/** The injector webhook's wire format, shared by the injector process and the daemon that calls it. */
import type { Pod } from '../api/types.js';

/** FSM's path for the pod mutating webhook. */
export const MUTATE_PATH = '/mutate-pod-creation';
export const HEALTH_PATH = '/healthz';

/** What the webhook needs to know of the pod's namespace (Kubernetes sends only the pod; FSM looks the namespace up). */
export interface NamespaceInfo {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface MutationRequest {
  pod: Pod;
  namespace: NamespaceInfo;
  meshName: string;
}

export interface MutationResponse {
  /** the pod to create: the request's pod, patched when a sidecar was injected */
  pod: Pod;
  injected: boolean;
}

/** Body of every non-200 answer. */
export interface WebhookErrorBody {
  error: { message: string };
}
