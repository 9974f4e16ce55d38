/** A real mqtt.js subscriber that records what arrives, for checking what the sink published. */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

interface Teardown { teardown(fn: () => unknown): void }

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
}

export interface Subscriber {
  readonly client: MqttClient;
  readonly messages: Received[];
  on(topic: string): Received[];
  /** Resolves when `pred()` holds; rejects after `timeoutMs` with `what` in the message. */
  waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void>;
}

export async function subscribe(t: Teardown, url: string, topics: string | string[], opts: IClientOptions = {}): Promise<Subscriber> {
  const client = connect(url, { reconnectPeriod: 100, ...opts });
  t.teardown(() => new Promise<void>((resolve) => client.end(true, {}, () => resolve())));
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain });
    // After the test's own 'message' listeners have seen it too.
    setImmediate(() => { for (const w of [...waiters]) w(); });
  });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    setTimeout(() => reject(new Error(`subscriber could not connect to ${url}`)), 5000).unref();
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return {
    client, messages,
    on: (topic) => messages.filter((m) => m.topic === topic),
    waitFor(pred, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pred()) return;
          waiters.delete(check); clearTimeout(timer); resolve();
        };
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)); }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
