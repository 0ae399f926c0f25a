// Baseline server: the smallest useful hono + @hono/node-server JSON service — parse the body,
// answer it back. Same framework and server adapter as the node, none of its work, so the ratio
// to it says what the KMS protocol costs on this machine today.
// Run: node --import tsx bench/load/echo-server.ts   (PORT=0 picks a free port; prints {"listening":<port>})
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.post("/echo", async (c) => c.json(await c.req.json()));
app.get("/echo", (c) => c.json({ ok: true }));

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 0) }, (info) => {
  process.stdout.write(`${JSON.stringify({ listening: info.port })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
