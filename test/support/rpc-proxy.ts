// An HTTP pass-through in front of the chain's RPC that a test can cut, to simulate a registry
// outage for one node without stopping the chain the other nodes use.
import { createServer, type Server } from "node:http";

export interface RpcProxy {
  url: string;
  /** While cut, every request's connection is dropped without an answer. */
  setCut(cut: boolean): void;
  /** Bodies of the JSON-RPC requests forwarded so far. */
  readonly bodies: string[];
  close(): Promise<void>;
}

export async function startRpcProxy(upstream: string): Promise<RpcProxy> {
  let cut = false;
  const bodies: string[] = [];
  const server: Server = createServer(async (req, res) => {
    if (cut) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    bodies.push(Buffer.concat(chunks).toString("utf8"));
    try {
      const answer = await fetch(upstream, {
        method: req.method,
        headers: { "content-type": req.headers["content-type"] ?? "application/json" },
        body: req.method === "GET" ? undefined : Buffer.concat(chunks),
      });
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      req.socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    setCut: (value) => (cut = value),
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
