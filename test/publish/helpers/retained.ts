/** Clears a retained message, so tests leave the shared broker as they found it. */
import { connect } from 'mqtt';

export async function clearRetained(url: string, topic: string): Promise<void> {
  const c = connect(url, { reconnectPeriod: 0 });
  c.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    c.once('connect', () => {
      c.publish(topic, '', { retain: true, qos: 1 }, () => { clearTimeout(timer); resolve(); });
    });
  });
  await new Promise<void>((resolve) => c.end(true, {}, () => resolve()));
}
