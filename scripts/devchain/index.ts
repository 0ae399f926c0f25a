// The dev chain library in one import, for scripts and tests.
export { ANVIL_KEYS, DEPLOYER_KEY } from "./accounts.js";
export { startAnvil, type AnvilInstance, type AnvilOptions } from "./anvil.js";
export { createDevchainClients, fetchChainId, type DevchainClients } from "./clients.js";
export { connectDevchain, type DevchainConnection } from "./connect.js";
export { deployKms, DEV_KMS_CODE_MEASUREMENT, DEV_KMS_VERSION_NAME } from "./deploy.js";
export {
  parseDeployment,
  readDeploymentFile,
  removeDeploymentFile,
  serializeDeployment,
  writeDeploymentFile,
  type Deployment,
} from "./deployment-file.js";
export { DEFAULT_DEPLOYMENT_PATH, REPO_ROOT } from "./paths.js";
export { DEFAULT_INSTANCE_FUNDING, RegistryAdmin, type RegisterInstanceParams } from "./registry-admin.js";
export { newP384PublicKeySpki, registerSimInstance, type SimInstance } from "./sim-instance.js";
export { startDevchain, type Devchain, type StartDevchainOptions } from "./start.js";
