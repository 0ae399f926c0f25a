// The named-key part of the `make run` walk-through (PROTOCOL.md §12), through the SDK: a key is
// created, encrypts on one node and decrypts on another at once, is rotated, and the old ciphertext
// still decrypts while new ones use version 2. Then a secret is stored on one node and read on the
// other. Steps are added to the caller's StepRunner.
import type { NovaKmsClient } from "../../client/nova-kms-client.js";
import type { StepRunner } from "./steps.js";

export interface KeysDemoOptions {
  steps: StepRunner;
  /** Clients pinned to two different nodes (or the same node twice in a one-node cluster). */
  first: { name: string; client: NovaKmsClient };
  second: { name: string; client: NovaKmsClient };
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

export async function runKeysDemo({ steps, first, second }: KeysDemoOptions): Promise<void> {
  const keyName = `demo-orders-${Date.now()}`;
  const aad = "order-17";
  const created = await steps.step(`create the encrypt key "${keyName}" on ${first.name}`, async () => {
    const key = await first.client.keys.create({ name: keyName, purpose: "encrypt" });
    return {
      value: key,
      lines: [`primary version ${key.primaryVersion}, rotates every ${key.rotationPeriodDays} days`],
    };
  });

  const sealed = await steps.step(`encrypt on ${first.name}, decrypt on ${second.name} at once`, async () => {
    if (!created) throw new Error("skipped: the key was not created");
    const message = "card ending 4242";
    const encrypted = await first.client.keys.encrypt(keyName, message, { aad });
    const opened = await second.client.keys.decrypt(encrypted.ciphertext, { aad });
    if (text(opened.plaintext) !== message || opened.version !== 1) {
      throw new Error(`decrypted "${text(opened.plaintext)}" (version ${opened.version})`);
    }
    return {
      value: encrypted,
      lines: [`ciphertext ${encrypted.ciphertext.slice(0, 40)}… (version ${encrypted.version})`, `"${message}"`],
    };
  });

  await steps.step(`rotate on ${first.name}: old ciphertext still decrypts, new ones use version 2`, async () => {
    if (!sealed) throw new Error("skipped: nothing was encrypted");
    const rotated = await first.client.keys.rotate(keyName);
    const old = await second.client.keys.decrypt(sealed.ciphertext, { aad });
    const fresh = await second.client.keys.encrypt(keyName, "after rotation", { aad });
    const back = await first.client.keys.decrypt(fresh.ciphertext, { aad });
    if (rotated.primaryVersion !== 2 || old.version !== 1 || fresh.version !== 2 || back.version !== 2) {
      throw new Error(
        `primary ${rotated.primaryVersion}, old decrypts as v${old.version}, new encrypts as v${fresh.version}`,
      );
    }
    return {
      value: rotated,
      lines: [
        `primary version now ${rotated.primaryVersion}`,
        `version-1 ciphertext decrypts on ${second.name}; a new one made on ${second.name} is version ${fresh.version}`,
      ],
    };
  });

  await steps.step(`secret put on ${first.name}, read on ${second.name}`, async () => {
    const name = `demo-db-password-${Date.now()}`;
    await first.client.secrets.put(name, "correct horse");
    const stored = await first.client.secrets.put(name, "battery staple");
    const read = await second.client.secrets.get(name);
    if (text(read.value) !== "battery staple" || read.version !== stored.version) {
      throw new Error(`read version ${read.version}: "${text(read.value)}"`);
    }
    return { value: read, lines: [`${name}: version ${read.version} of 2 read on ${second.name}`] };
  });
}
