/** Tessera's built-in stand-in for the fortio/fortio image: echo servers, `fortio load`, `fortio curl`. The only way in. */
export { runFortio, type FortioIo } from './cli.js';
export { startEchoServer, type RunningServer } from './echo-server.js';
export { startTcpEcho, startUdpEcho } from './socket-echo.js';
export { planEcho, parseStatus, parseDelay, parseSize, pick, DEFAULT_ECHO_LIMITS, EchoParamError } from './echo-params.js';
export { Histogram, Counter, BUCKET_EDGES_MS } from './histogram.js';
export { summaryLines, bannerLines, PERCENTILES } from './report.js';
export { parseDuration, formatDuration } from './duration.js';
export { serverConfig, parseBind } from './server.js';
export { FORTIO_VERSION } from './version.js';
