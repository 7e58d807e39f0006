/** The sidecar's HTTP message model and helpers. */
export type { Body, HeaderMap, RequestHead, ResponseHead } from './types.js';
export { BufferBody, EMPTY_BODY, StreamBody, bodyForForwarding } from './body.js';
export { forwardableHeaders, headerMapFrom, headerValue, isHopByHop } from './headers.js';
