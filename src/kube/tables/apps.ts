/** Deployment (apps/v1) as the server prints it: READY is ready/desired, the rest are counts. */
import { AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, column } from './columns.js';
import { DOC } from './descriptions.js';
import { translateTimestampSince } from './duration.js';
import { type Obj, labelSelectorString, obj, objs, str, num } from './values.js';
import type { Printer } from './types.js';

/** `layoutContainerCells`: names and images, each comma-joined in container order. */
export function containerCells(podSpec: Obj): [string, string] {
  const containers = objs(podSpec, 'containers');
  return [containers.map((c) => str(c, 'name')).join(','), containers.map((c) => str(c, 'image')).join(',')];
}

export const deploymentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', DOC.deploymentUpdatedReplicas),
    column('Available', 'string', DOC.deploymentAvailableReplicas),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    column('Selector', 'string', DOC.deploymentSelector, 1),
  ],
  row: (deployment, now) => {
    const spec = obj(deployment, 'spec');
    const status = obj(deployment, 'status');
    // replicas defaults to 1 on the server
    const desired = typeof spec['replicas'] === 'number' ? num(spec, 'replicas') : 1;
    const [containers, images] = containerCells(obj(spec, 'template', 'spec'));
    return {
      cells: [
        str(obj(deployment, 'metadata'), 'name'),
        `${num(status, 'readyReplicas')}/${desired}`,
        num(status, 'updatedReplicas'),
        num(status, 'availableReplicas'),
        translateTimestampSince(obj(deployment, 'metadata')['creationTimestamp'], now),
        containers,
        images,
        labelSelectorString(spec['selector']),
      ],
    };
  },
};
