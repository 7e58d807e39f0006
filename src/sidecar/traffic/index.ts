/** Pure parts of UpstreamTrafficSetting enforcement: token bucket, error/slow breaker, connection-pool limits, state kept across snapshots. */
export { TokenBucket, type Clock } from './token-bucket.js';
export { CircuitBreaker, BREAKER_DEFAULTS, type BreakerEvent, type BreakerTrip } from './breaker.js';
export { ConcurrencyLimit, type Admission } from './concurrency.js';
export { stateStore } from './state.js';
