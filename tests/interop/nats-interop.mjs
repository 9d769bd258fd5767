// A non-Herald producer and consumer of CloudEvents on NATS JetStream (the CloudEvents NATS binding, binary mode:
// the payload as the body, every attribute a `ce-` header).
//   node nats-interop.mjs publish <url> <subject> <json>     publishes one event, waits for JetStream's ack, prints {id}
//   node nats-interop.mjs consume <url> <stream> <subject>   reads the first message on the subject, prints {subject, headers, body}
import { connect, headers as natsHeaders } from "nats";
import { randomUUID } from "node:crypto";

const [mode, url, a, b, c] = process.argv.slice(2);
const connection = await connect({ servers: url, timeout: 10_000 });
try {
  const js = connection.jetstream();
  if (mode === "publish") {
    const [subject, json] = [a, b];
    const id = randomUUID();
    const h = natsHeaders();
    h.set("ce-specversion", "1.0");
    h.set("ce-id", id);
    h.set("ce-source", "urn:node:interop");
    h.set("ce-type", subject.split(".").slice(1).join("."));
    h.set("ce-time", new Date().toISOString());
    h.set("ce-subject", "node%20key"); // percent-encoded, as the binding requires for a space
    h.set("ce-datacontenttype", "application/json");
    const ack = await js.publish(subject, new TextEncoder().encode(json), { headers: h, msgID: id });
    console.log(JSON.stringify({ id, seq: ack.seq }));
  } else if (mode === "consume") {
    const [stream, subject] = [a, b];
    const consumer = await js.consumers.get(stream, { filterSubjects: subject });
    const message = await consumer.next({ expires: 10_000 });
    if (!message) throw new Error(`no message on ${subject}`);
    const headers = {};
    for (const [key, values] of message.headers ?? []) headers[key.toLowerCase()] = values[0];
    console.log(JSON.stringify({ subject: message.subject, headers, body: new TextDecoder().decode(message.data) }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} finally {
  await connection.close();
}
