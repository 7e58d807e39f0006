/**
 * Container logs of local pods, as the kubelet keeps them: the CRI line format, size-based rotation
 * with a bounded number of files, the previous run kept, and readers whose cost is what they print.
 */
export { DEFAULT_LOG_ROTATION, MIN_LOG_MAX_SIZE, logRotationOf, parseByteQuantity, type LogRotation } from './rotation.js';
export { ContainerLogWriter, MAX_ENTRY_MESSAGE } from './writer.js';
export { previousRunFile, retireRun, runFiles } from './files.js';
export { hasPreviousRun, readContainerLog, readOptionsOf, type LogQuery, type ReadLogOptions } from './reader.js';
export { entryHeader, formatTimestamp, parseEntry, timestampOf, type LogEntry, type LogStream } from './format.js';
