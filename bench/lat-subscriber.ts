/**
 * The latency benchmark's subscriber, in a process of its own as a collector would be: a
 * subscriber on the agent's event loop would add its own parsing to the latency it measures.
 * Prints "ready" once subscribed; when its standard input closes, prints one JSON line of
 * [flow id, arrival time in ms since the epoch] pairs and exits.
 *
 * It shares the machine's two cores with the agent and the broker, so it must not cost more than
 * a collector elsewhere would cost the agent: its PUBACKs leave in one socket write per turn of
 * the event loop (mqtt.js writes each on its own: 10,000 writes a second at the benchmark's rate,
 * more CPU than the agent's own publishing).
 *
 * Arguments: broker URL, topic, and the subscription's QoS (1 by default). At QoS 1 the broker
 * keeps at most max_inflight_messages unacknowledged messages per subscriber (Mosquitto: 20 by
 * default) and queues the rest, which at 10,000 messages/s is most of the measured tail.
 */
import { connectAsync } from 'mqtt';

const [url, topic, qosArg] = process.argv.slice(2) as [string, string, string | undefined];
const qos = qosArg === '0' ? 0 : 1;
const client = await connectAsync(url);
const seen: Array<[number, number]> = [];
const stream = client.stream as { cork(): void; uncork(): void };
let corked = false;
client.on('message', (_topic, payload) => {
  if (!corked && qos > 0) {
    corked = true;
    stream.cork();
    setImmediate(() => {
      corked = false;
      stream.uncork();
    });
  }
  const at = performance.timeOrigin + performance.now();
  const r = JSON.parse(payload.toString()) as { flow: { src_port: number; dst_port: number } };
  seen.push([r.flow.dst_port * 65536 + r.flow.src_port, at]);
});
await client.subscribeAsync(topic, { qos });
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void client.endAsync().then(() => {
    // Exit only once the (large) line is flushed into the pipe.
    process.stdout.write(`${JSON.stringify(seen)}\n`, () => process.exit(0));
  });
});
