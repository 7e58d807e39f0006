/** The chain runtime: context, compose, rescue. */
export type * from './types.js';
export { compose } from './compose.js';
export { RequestContext, makeResponse } from './context.js';
export { rescue, statusFor } from './rescue.js';
