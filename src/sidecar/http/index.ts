/** The sidecar's HTTP message model and helpers. */
export type { Body, BodySink, HeaderMap, RequestHead, ResponseHead } from './types.js';
export { BufferBody, EMPTY_BODY } from './body.js';
export { PushBody } from './push-body.js';
export type { FlowControl } from './push-body.js';
