// A paycue webhook receiver: Node 18+, no dependencies.
//
// Verifies the Standard Webhooks signature, ignores events it has already seen
// (paycue delivers at least once, with the same event_id on every retry), and
// answers 2xx so paycue stops retrying. Put your order logic in handle().
//
//     WEBHOOK_SECRET=whsec_... PORT=8000 node receiver.js
"use strict";
const crypto = require("node:crypto");
const http = require("node:http");

const TOLERANCE = 5 * 60; // seconds; older or future timestamps are replays
const secret = process.env.WEBHOOK_SECRET || "";
if (!secret.startsWith("whsec_")) {
  console.error("set WEBHOOK_SECRET to the same whsec_... value as paycue's WEBHOOK_SECRET");
  process.exit(1);
}
const key = Buffer.from(secret.slice("whsec_".length), "base64");
const seen = new Set(); // use your database in production: a unique index on event_id

function verify(headers, body) {
  const id = headers["webhook-id"] || "";
  const timestamp = headers["webhook-timestamp"] || "";
  const signatures = headers["webhook-signature"] || "";
  if (!id || !/^\d+$/.test(timestamp) || !signatures) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE) return false;
  const mac = crypto.createHmac("sha256", key);
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  const expected = Buffer.from("v1," + mac.digest("base64"));
  return signatures.split(" ").some((s) => {
    const given = Buffer.from(s);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

// Your shop's logic. Amounts arrive as JSON numbers: whole amounts are exact;
// compare `amount` as text (JSON.stringify) if your prices have decimals.
function handle(event) {
  switch (event.action) {
    case "confirm":
      console.log(`paid: transaction ${event.transaction_id} amount ${event.amount}`);
      break;
    case "cancel":
      console.log(`cancelled: transaction ${event.transaction_id}`);
      break;
    case "late":
      console.log(`LATE payment for ended transaction ${event.transaction_id}: check by hand`);
      break;
    default: // "test" from `paycue check --send-test`, or an action added later
      console.log(`${event.action}: event ${event.event_id} acknowledged`);
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks); // verify the raw bytes, before parsing
    if (req.method !== "POST" || !verify(req.headers, body)) {
      res.writeHead(401).end("bad signature");
      return;
    }
    let event;
    try {
      event = JSON.parse(body.toString("utf8"));
    } catch {
      res.writeHead(400).end("not JSON");
      return;
    }
    if (!seen.has(event.event_id)) {
      handle(event);
      seen.add(event.event_id);
    }
    res.writeHead(204).end();
  });
});

const port = Number(process.env.PORT || 8000);
server.listen(port, "127.0.0.1", () => console.log(`listening on 127.0.0.1:${port}`));
