/** Column definitions in the shape the server sends: format and priority always present. */
import { DOC } from './descriptions.js';
import type { TableColumnDefinition } from './types.js';

export function column(name: string, type: string, description: string, priority = 0, format = ''): TableColumnDefinition {
  return { name, type, format, description, priority };
}

/** Every built-in table but Event's starts with this. */
export const NAME_COLUMN = column('Name', 'string', DOC.name, 0, 'name');

/** The printers' Age: a string cell already converted to a duration by the server. */
export const AGE_COLUMN = column('Age', 'string', DOC.creationTimestamp);

export const CONTAINERS_COLUMN = column('Containers', 'string', 'Names of each container in the template.', 1);
export const IMAGES_COLUMN = column('Images', 'string', 'Images referenced by each container in the template.', 1);
