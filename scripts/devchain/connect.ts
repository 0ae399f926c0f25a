// Everything needed to act on an already deployed dev chain, from its deployment record.
import { RegistryReader } from "../../enclave/chain/registry-reader.js";
import { createDevchainClients, type DevchainClients } from "./clients.js";
import type { Deployment } from "./deployment-file.js";
import { RegistryAdmin } from "./registry-admin.js";

export interface DevchainConnection {
  deployment: Deployment;
  clients: DevchainClients;
  admin: RegistryAdmin;
  reader: RegistryReader;
}

export function connectDevchain(deployment: Deployment): DevchainConnection {
  const clients = createDevchainClients(deployment.rpcUrl, deployment.chainId, deployment.deployer.privateKey);
  return {
    deployment,
    clients,
    admin: new RegistryAdmin(clients, deployment.novaAppRegistry),
    reader: new RegistryReader({
      client: clients.publicClient,
      novaAppRegistry: deployment.novaAppRegistry,
      kmsRegistry: deployment.kmsRegistry,
    }),
  };
}
