/**
 * The daemon's state for systemd (sd_notify, Type=notify in the unit): READY=1 once `run` takes
 * reloads, RELOADING=1 then READY=1 around one, STOPPING=1 on a stop. Why: with Type=exec a
 * `systemctl reload` right after the start reached the process before Node had a SIGHUP handler,
 * and SIGHUP's default action ended it, which Restart=on-failure does not restart (found by
 * review: 7 of 7 SIGHUPs in the first 0.2 s). systemd holds a reload until READY=1.
 * Without NOTIFY_SOCKET (not under systemd, or another Type) nothing is sent.
 */
import { loadAddon } from './addon.js';

interface NotifyAddon {
  notify(socketPath: string, message: string): string | null;
}

let addon: NotifyAddon | undefined;

/** Sends `state` (lines of KEY=VALUE); returns why it could not, or undefined (sent, or no systemd to tell). */
export function notifySystemd(state: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const socket = env['NOTIFY_SOCKET'];
  if (!socket) return undefined;
  try {
    addon ??= loadAddon<NotifyAddon>('sd_notify', 'systemd notification addon');
    return addon.notify(socket, state) ?? undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** RELOADING=1 with the monotonic time systemd asks it to carry (Type=notify-reload, systemd 253). */
export function reloadingState(): string {
  return `RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`;
}
