// A non-Herald producer and consumer of CloudEvents on RabbitMQ (binary content mode, `cloudEvents_` headers).
//   node amqp-interop.mjs publish <uri> <exchange> <topic> <json>   publishes one event and waits for the confirm
//   node amqp-interop.mjs consume <uri> <queue>                     reads one message, prints {properties, headers, body} as JSON
import amqp from "amqplib";
import { randomUUID } from "node:crypto";

const [mode, uri, target, topic, json] = process.argv.slice(2);
const connection = await amqp.connect(uri);
try {
  if (mode === "publish") {
    const channel = await connection.createConfirmChannel();
    const id = randomUUID();
    channel.publish(target, topic, Buffer.from(json), {
      contentType: "application/json",
      messageId: id,
      persistent: true,
      headers: {
        cloudEvents_specversion: "1.0",
        cloudEvents_id: id,
        cloudEvents_source: "urn:node:interop",
        cloudEvents_type: topic,
        cloudEvents_time: new Date().toISOString(),
        cloudEvents_subject: "node-key",
      },
    });
    await channel.waitForConfirms();
    console.log(JSON.stringify({ id }));
  } else if (mode === "consume") {
    const channel = await connection.createChannel();
    let message = false;
    for (let i = 0; i < 200 && !message; i++) {
      message = await channel.get(target, { noAck: true });
      if (!message) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (!message) throw new Error(`no message in ${target}`);
    const headers = Object.fromEntries(
      Object.entries(message.properties.headers ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString("utf8") : v]));
    console.log(JSON.stringify({ contentType: message.properties.contentType, messageId: message.properties.messageId, headers, body: message.content.toString("utf8") }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} finally {
  await connection.close();
}
