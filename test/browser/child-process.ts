// node:child_process for the browser suite: there are no processes; calling it is a test error.
export function spawnSync(): never {
  throw new Error('the browser suite cannot run processes');
}
