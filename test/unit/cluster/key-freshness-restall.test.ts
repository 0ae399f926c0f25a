// A stall noticed while a catch-up is running may have hidden changes that catch-up did not see:
// nobody may use keys until a catch-up that began after the last stall has finished.
import { expect, it } from "vitest";
import { KeyFreshness } from "../../../enclave/cluster/key-freshness.js";

it("a stall noticed while a catch-up is in flight forces another catch-up before anyone proceeds", async () => {
  let t = 0;
  const resolvers: Array<(n: number) => void> = [];
  const f = new KeyFreshness({
    catchUp: () => new Promise<number>((r) => resolvers.push(r)),
    memberCount: () => 3,
    reachesMajority: () => true,
    now: () => t,
  });
  t += 2_000;
  let done = 0;
  const first = f.ensure().then(() => done++); // stall 1: catch-up 1 starts
  t += 2_000;
  const second = f.ensure().then(() => done++); // stall 2 while catch-up 1 runs
  expect(f.stallsSeen).toBe(2);
  resolvers[0]!(2);
  await new Promise((r) => setImmediate(r));
  expect(resolvers).toHaveLength(2); // catch-up 2 started…
  expect(done).toBe(0); // …and nobody went ahead on catch-up 1 alone
  resolvers[1]!(2);
  await Promise.all([first, second]);
  expect(done).toBe(2);
  await f.ensure();
  expect(resolvers).toHaveLength(2); // fresh now: no third catch-up
});
