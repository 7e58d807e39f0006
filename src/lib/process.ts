/** Process probes shared by the daemon, the lease files and the reaper. */

/** Signal 0 probes for existence; EPERM means the process exists but belongs to someone else. */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
