// readBoundedText: the one body reader behind every outbound call (peers, Odyn, the SDK) — whole
// bodies under the bound, ResponseTooLargeError past it, and the stream given up, not drained.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readBoundedText, ResponseTooLargeError } from "../../../enclave/protocol/bounded-body.js";

/** A body of `chunks` chunks of `size` bytes; `state.done` tells whether the reader let it go. */
function source(chunks: number, size: number) {
  const state = { produced: 0, finished: false };
  async function* generate() {
    try {
      for (let i = 0; i < chunks; i++) {
        state.produced++;
        yield new Uint8Array(size).fill(0x61);
      }
    } finally {
      state.finished = true;
    }
  }
  return { body: generate(), state };
}

describe("readBoundedText", () => {
  it("returns the whole body as UTF-8 when it fits, across chunk boundaries", async () => {
    const euro = Buffer.from("€uro", "utf8");
    const split = Readable.from([euro.subarray(0, 1), euro.subarray(1)]);
    expect(await readBoundedText(split, euro.length)).toBe("€uro");
    expect(await readBoundedText(new Response("exact").body, 5)).toBe("exact");
    expect(await readBoundedText(null, 0)).toBe("");
  });

  it("stops at the first chunk past the bound and releases the stream", async () => {
    const { body, state } = source(Number.MAX_SAFE_INTEGER, 1024);
    const err = await readBoundedText(body, 10 * 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect((err as Error).message).toBe("response body exceeds 10240 bytes");
    expect(state.produced).toBe(11);
    expect(state.finished).toBe(true);
  });

  it("refuses at once a body whose Content-Length is past the bound, reading none of it", async () => {
    const stream = Readable.from([Buffer.from("x".repeat(100))]);
    await expect(readBoundedText(stream, 99, "100")).rejects.toBeInstanceOf(ResponseTooLargeError);
    expect(stream.destroyed).toBe(true);
    const web = new Response("x".repeat(100)).body!;
    await expect(readBoundedText(web, 99, "100")).rejects.toBeInstanceOf(ResponseTooLargeError);
    // A false small Content-Length does not raise the bound: the bytes are counted.
    await expect(readBoundedText(Readable.from([Buffer.from("x".repeat(100))]), 99, "1")).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
  });
});
