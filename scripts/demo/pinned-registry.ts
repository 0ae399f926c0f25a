// The SDK picks nodes itself from the registry. To show "written on node 1, read on node 2", the demo
// gives a client a view of the registry that lists only one node: everything the client checks
// (wallet, teePubkey, URL) still comes from the chain, only the choice of node is fixed.
import type { KmsRegistryView } from "../../client/discovery.js";

export function pinnedRegistry(registry: KmsRegistryView, wallet: string): KmsRegistryView {
  const pinned = wallet.toLowerCase();
  return {
    getActiveInstances: async (appId) =>
      (await registry.getActiveInstances(appId)).filter((w) => w.toLowerCase() === pinned),
    getInstanceByWallet: (w) => registry.getInstanceByWallet(w),
  };
}
