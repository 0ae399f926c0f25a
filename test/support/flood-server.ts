// A loopback HTTP server whose every answer is 200 with a body that never ends (or ends after
// `totalBytes`): what a hostile peer, a broken enclave runtime or anything on the path can send.
// Tests use it to show a client stops reading at its bound. The server writes one shared chunk and
// waits for the socket to drain, so it holds no more than that chunk itself: any growth in the
// process's memory while a client reads is the client's.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FloodServer {
  url: string;
  /** Body bytes written so far, across all answers. */
  bytesSent(): number;
  close(): Promise<void>;
}

export interface FloodOptions {
  /** End each body after this many bytes (default: never). */
  totalBytes?: number;
  /** Send Content-Length: totalBytes (a client may refuse before reading). */
  declareLength?: boolean;
}

const CHUNK = Buffer.alloc(64 * 1024, "a");

export async function startFloodServer(options: FloodOptions = {}): Promise<FloodServer> {
  let sent = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    const headers: Record<string, string | number> = { "content-type": "application/json" };
    if (options.declareLength && options.totalBytes !== undefined) headers["content-length"] = options.totalBytes;
    res.writeHead(200, headers);
    let remaining = options.totalBytes ?? Number.POSITIVE_INFINITY;
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    const pump = () => {
      while (!closed && remaining > 0) {
        const chunk = remaining >= CHUNK.length ? CHUNK : CHUNK.subarray(0, remaining);
        remaining -= chunk.length;
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once("drain", pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bytesSent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `op`, sampling the process's resident memory meanwhile; resolves with how far it rose above the start. */
export async function peakRssGrowth(op: () => Promise<unknown>): Promise<{ outcome: unknown; growthBytes: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  let outcome: unknown;
  try {
    outcome = await op();
  } catch (e) {
    outcome = e;
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { outcome, growthBytes: peak - start };
}
