/** Which printer serves a kind: compiled-in ones by group and kind, the rest by the CRD rules. */
import type { PrinterColumn } from '../registry/types.js';
import { deploymentPrinter } from './apps.js';
import {
  configMapPrinter,
  endpointsPrinter,
  namespacePrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.js';
import { customResourcePrinter, genericPrinter } from './custom.js';
import { endpointSlicePrinter } from './discovery.js';
import { eventPrinter, eventsV1Printer } from './event.js';
import { podPrinter } from './pod.js';
import type { Printer } from './types.js';

const BUILT_IN = new Map<string, Printer>([
  ['/Pod', podPrinter],
  ['/Namespace', namespacePrinter],
  ['/Service', servicePrinter],
  ['/Endpoints', endpointsPrinter],
  ['/ConfigMap', configMapPrinter],
  ['/Secret', secretPrinter],
  ['/ServiceAccount', serviceAccountPrinter],
  ['/Event', eventPrinter],
  ['events.k8s.io/Event', eventsV1Printer],
  ['apps/Deployment', deploymentPrinter],
  ['discovery.k8s.io/EndpointSlice', endpointSlicePrinter],
  // servers up to 1.33 give CRDs the generic table (NAME, CREATED AT)
  ['apiextensions.k8s.io/CustomResourceDefinition', genericPrinter],
]);

/** The compiled-in printer for a kind, if the server has one. */
export function builtInPrinter(group: string, kind: string): Printer | undefined {
  return BUILT_IN.get(`${group}/${kind}`);
}

export interface PrinterFor {
  group: string;
  kind: string;
  printerColumns?: PrinterColumn[];
  builtIn?: boolean;
}

/** Compiled-in printer, else the generic table for built-in kinds, else the custom-resource table. */
export function printerFor({ group, kind, printerColumns, builtIn }: PrinterFor): Printer {
  const printer = builtInPrinter(group, kind);
  if (printer) return printer;
  if (builtIn) return genericPrinter;
  return customResourcePrinter(printerColumns);
}
