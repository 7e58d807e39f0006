/** `plugin.flomesh.io/v1alpha1` kinds: Plugin, PluginChain, PluginConfig (fsm-design.md §1.1–1.3). */
import { z } from 'zod';
import type { PluginConfigSpec } from '../types.js';
import { MOUNT_POINTS } from '../types.js';
import { dnsName, labelSelector, numberInRange, objectOf, optional, withDefault } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind, type ProblemReporter } from './registry.js';
import type { Resource } from '../types.js';

const mountPoint = z.enum(MOUNT_POINTS as [string, ...string[]]);

const pluginSpec = objectOf(
  {
    pipyscript: optional(z.string()),
    script: optional(z.string()),
    // float32 in FSM; the docs give the range 0–65535. Higher runs earlier.
    priority: withDefault(numberInRange(0, 65535, { integer: false }), 0),
  },
  'strict',
).superRefine((spec, ctx) => {
  const report = (field: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message });
  const hasPipy = spec.pipyscript !== undefined;
  const hasNative = spec.script !== undefined;
  if (hasPipy && hasNative) {
    report('script', 'set only one of spec.pipyscript (PipyJS) and spec.script (native module)');
  } else if (!hasPipy && !hasNative) {
    report('pipyscript', 'required field is missing (set spec.pipyscript or spec.script)');
  }
  // FSM's webhook rejects an empty script too: it would mount a module that does nothing.
  for (const field of ['pipyscript', 'script'] as const) {
    if (spec[field] !== undefined && spec[field].trim() === '') report(field, 'must not be empty');
  }
});

registerKind('Plugin', resourceSchema({ spec: pluginSpec }));

const chain = objectOf({ name: mountPoint, plugins: z.array(dnsName('dns1123-subdomain')).min(1) }, 'strict');

const pluginChainSpec = objectOf(
  {
    chains: z.array(chain).min(1),
    selectors: objectOf({ podSelector: optional(labelSelector('strict')), namespaceSelector: optional(labelSelector('strict')) }, 'strict'),
  },
  'strict',
);

registerKind('PluginChain', resourceSchema({ spec: pluginChainSpec }));

/** FSM only reads Service references, so anything else is a mistake worth reporting. */
const destinationRef = objectOf(
  {
    kind: z.enum(['Service']),
    name: dnsName('dns1035-label'),
    namespace: optional(dnsName('dns1123-label')),
    apiVersion: optional(z.string()),
    uid: optional(z.string()),
    resourceVersion: optional(z.string()),
    fieldPath: optional(z.string()),
  },
  'strict',
);

const pluginConfigSpec = objectOf(
  {
    plugin: dnsName('dns1123-subdomain'),
    destinationRefs: z.array(destinationRef).min(1),
    // free-form, passed unchanged to the plugin; null counts as missing, like any Kubernetes field
    config: z.unknown().refine((v) => v !== undefined && v !== null, { message: 'required field is missing' }),
  },
  'strict',
);

/** A destinationRef without a namespace means the PluginConfig's own namespace. */
function defaultRefNamespaces(resource: Resource, _report: ProblemReporter): void {
  const spec = resource.spec as PluginConfigSpec;
  for (const ref of spec.destinationRefs) ref.namespace ??= resource.metadata.namespace;
}

registerKind('PluginConfig', resourceSchema({ spec: pluginConfigSpec }), defaultRefNamespaces);
