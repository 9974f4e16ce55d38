/**
 * Import this before anything that loads onnxruntime-node: it turns onnxruntime's telemetry off.
 *
 * onnxruntime-node 1.30 reports usage to Microsoft's collector, keeps a device id under
 * ~/.cache/Microsoft/DeveloperTools and leaves an empty /tmp/mat-debug-<pid>.log behind at
 * every start; where HOME is not writable (the systemd unit's sandbox, a service user) it also
 * prints a coloured line that is not JSON into the journal, past the sessions' log level. A
 * network sensor does not phone home (found by review). onnxruntime reads ORT_DISABLE_TELEMETRY
 * from the process environment, in whichever thread opens it; set from the main thread before
 * the first worker starts, every thread sees it. An operator's own value is left as it is.
 */
if (process.env['ORT_DISABLE_TELEMETRY'] === undefined) process.env['ORT_DISABLE_TELEMETRY'] = '1';

export {};
