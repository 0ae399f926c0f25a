// Dev chain CLI: a local anvil with the KMS contracts, and admin commands that play the Nova platform.
//   npx tsx scripts/devchain.ts start                 # anvil + deploy; runs until Ctrl-C
//   npx tsx scripts/devchain.ts deploy --rpc <url>    # deploy onto a chain that is already running
//   npx tsx scripts/devchain.ts register-instance --wallet 0x… --zk-verified
//   npx tsx scripts/devchain.ts show
// Admin commands read .devchain/deployment.json (or --file) and print their result as JSON.
import { Command, InvalidArgumentError } from "commander";
import {
  getAddress,
  isAddress,
  isHex,
  keccak256,
  parseEther,
  stringToHex,
  zeroAddress,
  type Address,
  type Hex,
} from "viem";
import type { AppStatus, InstanceStatus, VersionStatus } from "../enclave/chain/types.js";
import { ANVIL_KEYS, DEPLOYER_KEY } from "./devchain/accounts.js";
import { createDevchainClients, fetchChainId } from "./devchain/clients.js";
import { connectDevchain } from "./devchain/connect.js";
import { deployKms } from "./devchain/deploy.js";
import { readDeploymentFile, writeDeploymentFile } from "./devchain/deployment-file.js";
import { describeChainError } from "./devchain/errors.js";
import { toPrintableJson } from "./devchain/json.js";
import { DEFAULT_DEPLOYMENT_PATH } from "./devchain/paths.js";
import { answersChainId } from "./devchain/rpc-probe.js";
import { newP384PublicKeySpki } from "./devchain/sim-instance.js";
import { startDevchain } from "./devchain/start.js";
import { parseAppStatus, parseInstanceStatus, parseVersionStatus } from "./devchain/status-names.js";

function parseId(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a non-negative integer id");
  return BigInt(value);
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError("expected a port number");
  return port;
}

function parseAddress(value: string): Address {
  if (!isAddress(value, { strict: false })) throw new InvalidArgumentError("expected a 0x address");
  return getAddress(value);
}

function parseHex(value: string): Hex {
  const hex = value.startsWith("0x") ? value : `0x${value}`;
  if (!isHex(hex)) throw new InvalidArgumentError("expected hex bytes");
  return hex;
}

// The deployer key is written into the deployment file, so only anvil's public dev keys are accepted.
function parseAnvilKey(value: string): Hex {
  const key = parseHex(value).toLowerCase() as Hex;
  if (!(ANVIL_KEYS as readonly string[]).includes(key)) {
    throw new InvalidArgumentError(
      "only anvil's well-known dev keys may be used (the key is written to the deployment file)",
    );
  }
  return key;
}

function parseBytes32(value: string): Hex {
  const hex = parseHex(value);
  if (hex.length !== 66) throw new InvalidArgumentError("expected 32 bytes of hex");
  return hex;
}

function parseBool(value: string): boolean {
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new InvalidArgumentError("expected true or false");
}

const program = new Command("devchain")
  .description("Local anvil chain with the Nova KMS contracts, and platform admin commands")
  .option("--file <path>", "deployment record", DEFAULT_DEPLOYMENT_PATH)
  .showHelpAfterError();

function deploymentFileOf(command: Command): string {
  return (command.optsWithGlobals() as { file: string }).file;
}

function connect(command: Command) {
  return connectDevchain(readDeploymentFile(deploymentFileOf(command)));
}

function print(value: unknown): void {
  process.stdout.write(`${toPrintableJson(value)}\n`);
}

program
  .command("start")
  .description("start anvil, deploy the contracts and the KMS app, and run until Ctrl-C")
  .option("--port <port>", "RPC port (default: a free one)", parsePort)
  .option("--chain-id <id>", "chain id", (v) => Number(parseId(v)), 31337)
  .option("--block-time <seconds>", "mine on an interval instead of per transaction", (v) => Number(parseId(v)))
  .action(async (opts: { port?: number; chainId: number; blockTime?: number }, command: Command) => {
    const file = deploymentFileOf(command);
    // Listen before starting anything so a Ctrl-C during deployment is still handled by us. `on`, not
    // `once`: a listener of ours must stay registered so exit-cleanup leaves the exit to this command.
    const stopSignal = new Promise<string>((resolve) => {
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => resolve(signal));
    });
    const devchain = await startDevchain({
      deploymentFile: file,
      port: opts.port,
      chainId: opts.chainId,
      blockTime: opts.blockTime,
    });
    print({ ...devchain.deployment, deploymentFile: file });
    process.stderr.write(
      `dev chain running at ${devchain.anvil.rpcUrl} (anvil pid ${devchain.anvil.pid}); Ctrl-C to stop\n`,
    );
    const reason = await Promise.race([stopSignal, devchain.anvil.exited.then(() => "anvil exited")]);
    await devchain.stop();
    process.stderr.write(`dev chain stopped (${reason}); removed ${file}\n`);
    process.exit(reason === "anvil exited" ? 1 : 0);
  });

program
  .command("deploy")
  .description("deploy the contracts and the KMS app onto a running chain and write the deployment record")
  .requiredOption("--rpc <url>", "JSON-RPC URL of the chain")
  .option("--key <hex>", "deployer key, one of anvil's dev keys (default: account 0)", parseAnvilKey, DEPLOYER_KEY)
  .action(async (opts: { rpc: string; key: Hex }, command: Command) => {
    if (!(await answersChainId(opts.rpc))) throw new Error(`no JSON-RPC node answers at ${opts.rpc}`);
    const chainId = await fetchChainId(opts.rpc);
    const deployment = await deployKms(createDevchainClients(opts.rpc, chainId, opts.key), {
      rpcUrl: opts.rpc,
      deployerKey: opts.key,
    });
    const file = deploymentFileOf(command);
    writeDeploymentFile(file, deployment);
    print({ ...deployment, deploymentFile: file });
  });

program
  .command("create-app")
  .description("create an app; prints its id")
  .option("--dapp <address>", "the app's dApp contract (receives operator callbacks)", parseAddress, zeroAddress)
  .option("--owner <address>", "app owner (default: the deployer)", parseAddress)
  .option("--metadata-uri <uri>", "metadata URI", "")
  .action(async (opts: { dapp: Address; owner?: Address; metadataUri: string }, command: Command) => {
    const { admin } = connect(command);
    const appId = await admin.createApp({ dappContract: opts.dapp, owner: opts.owner, metadataUri: opts.metadataUri });
    print({ appId });
  });

program
  .command("enroll-version")
  .description("enroll a version of an app; prints its id")
  .requiredOption("--app <id>", "app id", parseId)
  .requiredOption("--name <name>", "version name")
  .option("--measurement <bytes32>", "code measurement (default: keccak256 of the name)", parseBytes32)
  .action(async (opts: { app: bigint; name: string; measurement?: Hex }, command: Command) => {
    const { admin } = connect(command);
    const codeMeasurement = opts.measurement ?? keccak256(stringToHex(opts.name));
    const versionId = await admin.enrollVersion({ appId: opts.app, versionName: opts.name, codeMeasurement });
    print({ appId: opts.app, versionId });
  });

program
  .command("register-instance")
  .description("register an instance (default: of the KMS app and version) and fund its wallet; prints its id")
  .requiredOption("--wallet <address>", "the instance's enclave wallet", parseAddress)
  .option("--app <id>", "app id (default: the KMS app)", parseId)
  .option("--version <id>", "version id (default: the KMS version)", parseId)
  .option("--pubkey <hex>", "teePubkey bytes (default: a fresh P-384 SPKI)", parseHex)
  .option("--url <url>", "instance URL", "http://127.0.0.1:0")
  .option("--operator <address>", "operator address (default: the deployer)", parseAddress)
  .option("--fund <eth>", "balance to give the wallet, in ether", "100")
  .option("--zk-verified", "also mark it zkVerified", false)
  .action(
    async (
      opts: {
        wallet: Address;
        app?: bigint;
        version?: bigint;
        pubkey?: Hex;
        url: string;
        operator?: Address;
        fund: string;
        zkVerified: boolean;
      },
      command: Command,
    ) => {
      const { admin, deployment } = connect(command);
      const instanceId = await admin.registerInstance({
        appId: opts.app ?? deployment.kmsAppId,
        versionId: opts.version ?? deployment.kmsVersionId,
        teeWallet: opts.wallet,
        teePubkey: opts.pubkey ?? newP384PublicKeySpki(),
        instanceUrl: opts.url,
        operator: opts.operator,
        funding: parseEther(opts.fund),
      });
      if (opts.zkVerified) await admin.setZkVerified(instanceId, true);
      print({ instanceId, wallet: opts.wallet.toLowerCase(), zkVerified: opts.zkVerified });
    },
  );

program
  .command("set-zk-verified")
  .description("set an instance's zkVerified flag")
  .argument("<instanceId>", "instance id", parseId)
  .argument("<value>", "true or false", parseBool)
  .action(async (instanceId: bigint, value: boolean, _opts: unknown, command: Command) => {
    await connect(command).admin.setZkVerified(instanceId, value);
    print({ instanceId, zkVerified: value });
  });

program
  .command("set-instance-status")
  .description("set an instance's status: ACTIVE, STOPPED or FAILED")
  .argument("<instanceId>", "instance id", parseId)
  .argument("<status>", "status name or number", parseInstanceStatus)
  .action(async (instanceId: bigint, status: InstanceStatus, _opts: unknown, command: Command) => {
    await connect(command).admin.setInstanceStatus(instanceId, status);
    print({ instanceId, status });
  });

program
  .command("set-version-status")
  .description("set a version's status: ENROLLED, DEPRECATED or REVOKED")
  .argument("<appId>", "app id", parseId)
  .argument("<versionId>", "version id", parseId)
  .argument("<status>", "status name or number", parseVersionStatus)
  .action(async (appId: bigint, versionId: bigint, status: VersionStatus, _opts: unknown, command: Command) => {
    await connect(command).admin.setVersionStatus(appId, versionId, status);
    print({ appId, versionId, status });
  });

program
  .command("set-app-status")
  .description("set an app's status: ACTIVE, INACTIVE or REVOKED")
  .argument("<appId>", "app id", parseId)
  .argument("<status>", "status name or number", parseAppStatus)
  .action(async (appId: bigint, status: AppStatus, _opts: unknown, command: Command) => {
    await connect(command).admin.setAppStatus(appId, status);
    print({ appId, status });
  });

program
  .command("show")
  .description("print the deployment record and, if the chain answers, the KMS state on it")
  .action(async (_opts: unknown, command: Command) => {
    const { deployment, reader } = connect(command);
    const reachable = await answersChainId(deployment.rpcUrl);
    const chain = reachable
      ? {
          reachable,
          masterSecretHash: await reader.masterSecretHash(),
          activeKmsInstances: await reader.getActiveInstances(deployment.kmsAppId),
        }
      : { reachable };
    print({ ...deployment, deploymentFile: deploymentFileOf(command), chain });
  });

try {
  await program.parseAsync();
} catch (error) {
  process.stderr.write(`devchain: ${describeChainError(error)}\n`);
  process.exit(1);
}
