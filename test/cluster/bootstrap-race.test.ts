// Two nodes that become eligible in the same block both propose a master secret in the same
// block: the chain takes the first, the other node's transaction reverts, and it adopts the
// winner's secret from its peer. Mining is held back so the race is real, not a matter of timing.
import { afterAll, beforeAll, expect, it } from "vitest";
import { encodeFunctionData, type Address } from "viem";
import { novaAppRegistryAbi } from "../../enclave/chain/abi/novaAppRegistry.js";
import { simulatedIdentity } from "../../enclave/tee/simulated.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { registerDemoApp, type NodeProcess } from "../../scripts/cluster/index.js";
import { appRequest } from "../support/app-request.js";
import { getStatus, waitFor } from "../support/kms-harness.js";
import { startClusterFixture, targetOf, waitForServing, type ClusterFixture } from "../support/process-cluster.js";

let cluster: ClusterFixture;
let nodes: NodeProcess[];

beforeAll(async () => {
  cluster = await startClusterFixture("race");
  nodes = await Promise.all(["race-a", "race-b"].map((seed) => cluster.start(seed)));
});

afterAll(async () => {
  await cluster?.stop();
});

it("two eligible nodes racing to bootstrap end on one secret", async () => {
  const { admin, clients, deployment } = cluster.chain;
  // Registered but not yet zkVerified: neither may set the secret yet.
  const instanceIds: bigint[] = [];
  for (const node of nodes) {
    const identity = simulatedIdentity(node.seed);
    instanceIds.push(
      await admin.registerInstance({
        appId: deployment.kmsAppId,
        versionId: deployment.kmsVersionId,
        teeWallet: identity.wallet as Address,
        teePubkey: identity.teePubkeySpkiHex,
        instanceUrl: node.url,
      }),
    );
  }
  await clients.testClient.setAutomine(false);
  try {
    // Both become eligible in one block.
    for (const id of instanceIds) {
      await clients.walletClient.sendTransaction({
        to: deployment.novaAppRegistry,
        data: encodeFunctionData({ abi: novaAppRegistryAbi, functionName: "setZkVerified", args: [id, true] }),
      });
    }
    await clients.testClient.mine({ blocks: 1 });
    // Both nodes now see the zero hash and propose. Hold the block until one proposal waits in the
    // pool and both nodes have tried: the second either sent its own transaction too or found the
    // first one pending (gas estimation runs against the pending block) — either way the chain,
    // not timing, picks the winner.
    await waitFor(
      async () => {
        const pool = (await clients.testClient.request({ method: "txpool_status" as never })) as { pending: string };
        const reasons = await Promise.all(nodes.map(async (n) => (await getStatus(n.url)).kms.reason));
        return Number(pool.pending) >= 1 && reasons.every((r) => /proposing|submit/.test(r));
      },
      20_000,
      "both nodes proposing",
    );
    await clients.testClient.mine({ blocks: 1 });
  } finally {
    await clients.testClient.setAutomine(true);
  }
  await Promise.all(nodes.map((n) => waitForServing(n.url, 30_000)));
  const onChain = await cluster.chain.reader.masterSecretHash();
  const statuses = await Promise.all(nodes.map((n) => getStatus(n.url)));
  expect(statuses.map((s) => s.kms.master_secret.on_chain_hash)).toEqual([onChain, onChain]);
  expect(statuses.map((s) => s.kms.master_secret.origin).sort()).toEqual(["generated", "peer"]);
  expect(statuses.map((s) => s.node.master_secret.state).sort()).toEqual(["generated", "synced"]);

  const app = await registerDemoApp(admin, { seed: "race-app" });
  const tee = new SimulatedTee({ seed: app.seed });
  const keys = await Promise.all(
    nodes.map(
      async (n) =>
        (await appRequest(targetOf(n), tee, { method: "POST", path: "/kms/derive", body: { path: "p" } })).json.key,
    ),
  );
  expect(keys[0]).toBe(keys[1]);
});
