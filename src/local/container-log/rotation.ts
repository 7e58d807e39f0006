/** `--container-log-max-size` and `--container-log-max-files`: the kubelet's flags, defaults and quantities. */
import { MeshError } from '../../lib/errors.js';

export interface LogRotation {
  /** bytes a file may reach before the next line goes to a new one */
  maxSize: number;
  /** files kept per container run, the one being written included */
  maxFiles: number;
}

/** The kubelet's defaults: 10Mi, 5 files. */
export const DEFAULT_LOG_ROTATION: LogRotation = { maxSize: 10 * 1024 * 1024, maxFiles: 5 };

/** Below this a file could not hold one full-size entry (16 KiB of message and its header). */
export const MIN_LOG_MAX_SIZE = 32 * 1024;

const SUFFIX: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};

/** A Kubernetes quantity of bytes (`64Ki`, `10Mi`, `1G`, `65536`) as a whole number of bytes. */
export function parseByteQuantity(text: string, flag: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text.trim());
  if (!m) throw new MeshError('MESH_ERR_USAGE', `${flag}: "${text}" is not a quantity of bytes (e.g. 64Ki, 10Mi, 1G)`);
  return Math.floor(Number(m[1]) * SUFFIX[m[2] ?? '']!);
}

/** The rotation the flags mean (defaults for what is not given); a usage error for values the kubelet would refuse. */
export function logRotationOf(flags: { maxSize?: string; maxFiles?: string }): LogRotation {
  const maxSize = flags.maxSize === undefined ? DEFAULT_LOG_ROTATION.maxSize : parseByteQuantity(flags.maxSize, '--container-log-max-size');
  if (maxSize < MIN_LOG_MAX_SIZE) {
    throw new MeshError('MESH_ERR_USAGE', `--container-log-max-size: ${flags.maxSize} is below the minimum of 32Ki`);
  }
  let maxFiles = DEFAULT_LOG_ROTATION.maxFiles;
  if (flags.maxFiles !== undefined) {
    maxFiles = Number(flags.maxFiles);
    // as the kubelet: at least 2 (the file being written and one rotated)
    if (!/^[0-9]+$/.test(flags.maxFiles) || maxFiles < 2) {
      throw new MeshError('MESH_ERR_USAGE', `--container-log-max-files: "${flags.maxFiles}" must be an integer of at least 2`);
    }
  }
  return { maxSize, maxFiles };
}
