// The `make run` walk-through: an app (a SimulatedTee registered on chain) uses the KMS cluster
// through the SDK exactly as a Nova app would — keys, replicated KV across nodes, a certificate,
// named keys and secrets (keys-demo.ts) —
// and the nodes' /status is shown at the end. Returns the titles of the steps that failed.
import { X509Certificate } from "node:crypto";
import { NovaKmsClient } from "../../client/nova-kms-client.js";
import type { KmsRegistryView } from "../../client/discovery.js";
import { bytesToHex } from "../../enclave/crypto/bytes.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { fetchStatus, pollUntil } from "../cluster/wait.js";
import { createCsrPem } from "./csr.js";
import { pinnedRegistry } from "./pinned-registry.js";
import { runKeysDemo } from "./keys-demo.js";
import { StepRunner } from "./steps.js";

export interface DemoNode {
  name: string;
  url: string;
  wallet: string;
}

export interface DemoOptions {
  /** At least one; the KV write goes to the first, the cross-node read to the second (or the first again). */
  nodes: DemoNode[];
  registry: KmsRegistryView;
  kmsAppId: bigint;
  /** Seed of the registered app instance (see scripts/cluster/registration.ts registerDemoApp). */
  appSeed: string;
  appId: bigint;
  /** How long a write may take to show up on another node, default 10 s. */
  replicationTimeoutMs?: number;
  out: (line: string) => void;
}

const DEFAULT_REPLICATION_TIMEOUT_MS = 10_000;

export async function runDemo(options: DemoOptions): Promise<readonly string[]> {
  const { nodes, registry, kmsAppId, out } = options;
  const writer = nodes[0];
  if (!writer) throw new Error("the demo needs at least one node");
  const reader = nodes[1] ?? writer;
  const replicationTimeoutMs = options.replicationTimeoutMs ?? DEFAULT_REPLICATION_TIMEOUT_MS;
  const tee = new SimulatedTee({ seed: options.appSeed });
  const clientFor = (node?: DemoNode): NovaKmsClient =>
    new NovaKmsClient({
      tee,
      registry: node ? pinnedRegistry(registry, node.wallet) : registry,
      kmsAppId,
      allowHttp: true,
      // Short per-call budget: the replication poll below retries on its own.
      timeoutMs: 5_000,
    });
  const anyNode = clientFor();
  const onWriter = clientFor(writer);
  const onReader = clientFor(reader);
  const steps = new StepRunner(out);
  const key = `demo/greeting-${Date.now()}`;
  const value = `hello from ${writer.name} at ${new Date().toISOString()}`;

  await steps.step("discover the KMS nodes from the registry (SDK)", async () => {
    const found = await anyNode.nodes();
    return { value: found, lines: found.map((n) => `${n.url}  wallet ${n.wallet}  instance ${n.instanceId}`) };
  });

  await steps.step(
    `derive a key (path "demo/signing", context "v1") on ${writer.name} and on ${reader.name}`,
    async () => {
      const request = { path: "demo/signing", context: "v1" };
      const [a, b] = [await onWriter.derive(request), await onReader.derive(request)];
      const [hexA, hexB] = [bytesToHex(a.key), bytesToHex(b.key)];
      if (a.appId !== options.appId) throw new Error(`key bound to app ${a.appId}, expected ${options.appId}`);
      if (hexA !== hexB)
        throw new Error(`the nodes derived different keys: ${hexA.slice(0, 16)}… vs ${hexB.slice(0, 16)}…`);
      return { value: a, lines: [`app ${a.appId}, ${a.length} bytes: ${hexA.slice(0, 16)}… (same on both nodes)`] };
    },
  );

  const written = await steps.step(`KV put "${key}" on ${writer.name}`, async () => {
    const result = await onWriter.kv.put(key, value);
    return { value: result, lines: [`value "${value}"`, `updated_at_ms ${result.updatedAtMs}`] };
  });

  await steps.step(
    `KV get "${key}" from ${reader.name} (waits up to ${replicationTimeoutMs / 1000} s for replication)`,
    async () => {
      if (!written) throw new Error("skipped: the put failed");
      const started = Date.now();
      let last = "no answer yet";
      const entry = await pollUntil(
        async () => {
          try {
            const found = await onReader.kv.get(key);
            last = found ? "a different value" : "not found";
            return found && Buffer.from(found.value).toString("utf8") === value ? found : undefined;
          } catch (error) {
            last = (error as Error).message.split("\n")[0] ?? "error";
            return undefined;
          }
        },
        {
          timeoutMs: replicationTimeoutMs,
          what: `the write on ${writer.name} to reach ${reader.name}`,
          describe: () => `last read: ${last}`,
          intervalMs: 200,
        },
      );
      return {
        value: entry,
        lines: [
          `"${Buffer.from(entry.value).toString("utf8")}"`,
          `visible on ${reader.name} ${Date.now() - started} ms after the first read attempt`,
        ],
      };
    },
  );

  await steps.step(`KV list on ${reader.name}`, async () => {
    const keys = await onReader.kv.list();
    if (written && !keys.includes(key)) throw new Error(`"${key}" is missing from ${JSON.stringify(keys)}`);
    return { value: keys, lines: [`${keys.length} key(s): ${keys.join(", ")}`] };
  });

  await steps.step(`KV delete "${key}" on ${writer.name}, gone on ${reader.name}`, async () => {
    const deleted = await onWriter.kv.delete(key);
    if (!deleted) throw new Error(`${writer.name} had no value to delete`);
    await pollUntil(async () => ((await onReader.kv.get(key).catch(() => null)) === undefined ? true : undefined), {
      timeoutMs: replicationTimeoutMs,
      what: `the delete to reach ${reader.name}`,
      intervalMs: 200,
    });
    return { value: deleted, lines: ["deleted on the writer; the read on the other node now finds nothing"] };
  });

  await steps.step("certificate for a CSR (P-256, WebCrypto) signed by the cluster CA", async () => {
    const cert = await anyNode.signCert({ csrPem: await createCsrPem("CN=demo-app"), validityDays: 7 });
    const leaf = new X509Certificate(cert.certificatePem);
    const ca = new X509Certificate(cert.caCertificatePem);
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey))
      throw new Error("the certificate does not chain to the returned CA certificate");
    return {
      value: leaf,
      lines: [
        `subject  ${oneLine(leaf.subject)}`,
        `issuer   ${oneLine(leaf.issuer)}`,
        `valid    ${leaf.validFrom} → ${leaf.validTo}`,
        `serial   ${leaf.serialNumber}`,
        "chains to the CA certificate: yes",
      ],
    };
  });

  await runKeysDemo({
    steps,
    first: { name: writer.name, client: onWriter },
    second: { name: reader.name, client: onReader },
  });

  await steps.step("/status of each node", async () => {
    const statuses = await Promise.all(nodes.map(async (n) => ({ node: n, status: await fetchStatus(n.url, 5_000) })));
    const lines = statuses.map(({ node, status }) => {
      const secret = status.node.master_secret;
      const from = secret.synced_from ? ` from ${secret.synced_from}` : "";
      const hash = (status.kms.master_secret.on_chain_hash ?? "").slice(0, 12);
      return (
        `${node.name} ${node.url}: service_available=${status.node.service_available} (${status.kms.reason}), ` +
        `master secret ${secret.state}${from}, hash ${hash}…, ` +
        `${status.data_store.total_keys} keys, ${status.cluster.total_instances} instances`
      );
    });
    const down = statuses.filter((s) => !s.status.node.service_available).map((s) => s.node.name);
    if (down.length > 0) throw new Error([...lines, `not serving: ${down.join(", ")}`].join("\n"));
    return { value: statuses, lines };
  });

  out(
    `\n${steps.total - steps.failed.length}/${steps.total} steps ok${steps.failed.length ? `; failed: ${steps.failed.join("; ")}` : ""}`,
  );
  return steps.failed;
}

/** node:crypto prints distinguished names one attribute per line. */
function oneLine(name: string): string {
  return name.split("\n").join(", ");
}
