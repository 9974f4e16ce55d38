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
 * Arguments: broker URL, topic, the subscription's QoS (1 by default), and the Receive Maximum
 * to ask for (0 by default: connect with MQTT 3.1.1). At QoS 1 the broker keeps at most that many
 * unacknowledged messages in flight to this subscriber and queues the rest. An MQTT 3.1.1 client
 * cannot ask: Mosquitto then applies its max_inflight_messages (20 by default), which at 10,000
 * messages/s is most of the measured tail. An MQTT 5 client states its Receive Maximum in CONNECT
 * and Mosquitto uses that instead, as a collector sized for the rate would.
 */
import { connectAsync } from 'mqtt';

const [url, topic, qosArg, receiveMaximumArg] = process.argv.slice(2) as [string, string, string | undefined, string | undefined];
const qos = qosArg === '0' ? 0 : 1;
const receiveMaximum = Number(receiveMaximumArg ?? 0);
const client = await connectAsync(url, receiveMaximum > 0 ? { protocolVersion: 5, properties: { receiveMaximum } } : {});
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
