/**
 * A SIGHUP that comes before `run` installs its own handler: Node's default action for SIGHUP ends
 * the process, which systemd counts as a clean exit and does not restart. `run` loads its modules
 * (100-300 ms) before it can handle one, and `systemctl reload` right after a start lands there
 * (found by review). The entry point catches it as soon as it runs; `run` takes it over.
 */
let seen = false;
const onHup = (): void => {
  seen = true;
};

/** From now on a SIGHUP is only noted (the entry point, before loading `run`). */
export function catchEarlyHup(): void {
  process.on('SIGHUP', onHup);
}

/** Whether a SIGHUP came since catchEarlyHup(); stops catching (the caller has its own handler by then). */
export function takeEarlyHup(): boolean {
  process.off('SIGHUP', onHup);
  const s = seen;
  seen = false;
  return s;
}
