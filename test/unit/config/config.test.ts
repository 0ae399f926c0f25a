import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../enclave/config.js";

const base = {
  SIMULATION_MODE: "true",
  CHAIN_RPC_URL: "http://127.0.0.1:8545",
  NOVA_APP_REGISTRY_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  KMS_REGISTRY_ADDRESS: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  KMS_APP_ID: "1",
};

describe("loadConfig", () => {
  it("applies documented defaults", () => {
    const cfg = loadConfig(base);
    expect(cfg.PORT).toBe(8000);
    expect(cfg.BIND_HOST).toBe("127.0.0.1");
    expect(cfg.AUTH_CACHE_TTL_SECONDS).toBe(15);
    expect(cfg.REGISTRY_LOOKUPS_PER_SECOND).toBe(50);
    expect(cfg.TRUST_PROXY).toBe(false);
    expect(cfg.TRUST_PROXY_HOPS).toBe(1);
    expect(cfg.NONCE_RATE_LIMIT_PER_MINUTE).toBe(12_000);
    expect(cfg.PEER_NONCE_RATE_LIMIT_PER_MINUTE).toBe(6_000);
    expect(cfg.POP_TIMEOUT_SECONDS).toBe(120);
    expect(cfg.MAX_BODY_BYTES).toBe(65536);
    expect(cfg.MAX_KV_BODY_BYTES).toBe(3 * 1024 * 1024);
    expect(cfg.KV_OVERFLOW).toBe("evict-lru");
    expect(cfg.KMS_APP_ID).toBe(1n);
    expect(cfg.NOVA_APP_REGISTRY_ADDRESS).toBe("0x5fbdb2315678afecb367f032d93f642f64180aa3");
  });

  it.each([
    ["PORT", "70000"],
    ["KMS_APP_ID", "abc"],
    ["NOVA_APP_REGISTRY_ADDRESS", "0x1234"],
    ["CHAIN_RPC_URL", "not a url"],
    ["MASTER_SECRET_HEX", "00"],
    ["KV_OVERFLOW", "drop"],
    ["AUTH_CACHE_TTL_SECONDS", "-1"],
    ["TRUST_PROXY_HOPS", "0"],
  ])("rejects a bad %s with one line naming it", (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrowError(new RegExp(`^invalid configuration: ${name}:`));
  });

  it("refuses simulation inside an enclave and requires a mode", () => {
    expect(() => loadConfig({ ...base, IN_ENCLAVE: "true" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, SIMULATION_MODE: "false" })).toThrow(/IN_ENCLAVE=true/);
    expect(() => loadConfig({ ...base, SIMULATION_MODE: "false", IN_ENCLAVE: "true", SIM_NODE_SEED: "x" })).toThrow(
      /SIM_NODE_SEED/,
    );
    expect(() =>
      loadConfig({ ...base, SIMULATION_MODE: "false", IN_ENCLAVE: "true", NODE_INSTANCE_URL: "http://kms.example" }),
    ).toThrow(/https/);
  });

  it("refuses a preset master secret inside an enclave, where the environment is readable by the host", () => {
    const enclave = { ...base, SIMULATION_MODE: "false", IN_ENCLAVE: "true" };
    expect(() => loadConfig({ ...enclave, MASTER_SECRET_HEX: "11".repeat(32) })).toThrowError(
      /^invalid configuration: MASTER_SECRET_HEX .*refused when IN_ENCLAVE=true/,
    );
    expect(loadConfig({ ...base, MASTER_SECRET_HEX: "11".repeat(32) }).MASTER_SECRET_HEX).toBe("11".repeat(32));
  });

  it("binds to all interfaces in enclave mode by default", () => {
    const cfg = loadConfig({ ...base, SIMULATION_MODE: "false", IN_ENCLAVE: "true" });
    expect(cfg.BIND_HOST).toBe("0.0.0.0");
  });
});
