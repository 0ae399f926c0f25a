import { describe, expect, it } from "vitest";
import { checkPeerUrl, guardedLookup, isNonPublicAddress } from "../../../enclave/cluster/peer-policy.js";

describe("isNonPublicAddress", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "100.64.0.1",
  ])("%s is not public", (address) => expect(isNonPublicAddress(address)).toBe(true));
  it.each(["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("%s is public", (address) =>
    expect(isNonPublicAddress(address)).toBe(false),
  );
});

describe("checkPeerUrl", () => {
  const enclave = { enclaveMode: true };
  const sim = { enclaveMode: false };
  it("requires https and public literal addresses in enclave mode", () => {
    expect(checkPeerUrl("http://kms.example.com", enclave)).toMatch(/https/);
    expect(checkPeerUrl("https://127.0.0.1:8000", enclave)).toMatch(/non-public/);
    expect(checkPeerUrl("https://[::1]:8000", enclave)).toMatch(/non-public/);
    expect(checkPeerUrl("https://localhost", enclave)).toMatch(/non-public/);
    expect(checkPeerUrl("https://kms.example.com", enclave)).toBeUndefined();
  });
  it("allows http and loopback in simulation, but never other schemes or credentials", () => {
    expect(checkPeerUrl("http://127.0.0.1:8000", sim)).toBeUndefined();
    expect(checkPeerUrl("ftp://x", sim)).toBeDefined();
    expect(checkPeerUrl("https://u:p@kms.example.com", sim)).toMatch(/credentials/);
    expect(checkPeerUrl("not a url", sim)).toBeDefined();
  });
});

describe("guardedLookup", () => {
  const resolve = (policy: { enclaveMode: boolean }, host: string) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((done) =>
      guardedLookup(policy)(host, {}, (err, address) => done({ err, address })),
    );
  it("refuses names that resolve to loopback in enclave mode, checked on the resolved address", async () => {
    const refused = await resolve({ enclaveMode: true }, "localhost");
    expect(refused.err?.code).toBe("ENOTPUBLIC");
    const allowed = await resolve({ enclaveMode: false }, "localhost");
    expect(allowed.err).toBeNull();
    expect(isNonPublicAddress(String(allowed.address))).toBe(true);
  });
});
