/** Refuses malformed Tessera traffic annotations on a Service (timeouts, outlier detection) at the edge. */
import { OUTLIER_DETECTION_ANNOTATION, ROUTE_TIMEOUTS_ANNOTATION, parseOutlierDetection, parseRouteTimeouts } from '../traffic-annotations.js';
import type { Resource } from '../types.js';
import type { ProblemReporter } from './registry.js';

export function checkServiceTrafficAnnotations(resource: Resource, report: ProblemReporter): void {
  const a = resource.metadata.annotations ?? {};
  const timeouts = a[ROUTE_TIMEOUTS_ANNOTATION];
  if (timeouts !== undefined) {
    const parsed = parseRouteTimeouts(timeouts);
    if (typeof parsed === 'string') report(`metadata.annotations[${ROUTE_TIMEOUTS_ANNOTATION}]`, parsed);
  }
  const outlier = a[OUTLIER_DETECTION_ANNOTATION];
  if (outlier !== undefined) {
    const parsed = parseOutlierDetection(outlier);
    if (typeof parsed === 'string') report(`metadata.annotations[${OUTLIER_DETECTION_ANNOTATION}]`, parsed);
  }
}
