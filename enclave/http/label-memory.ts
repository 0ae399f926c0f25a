// Which envelope label each caller last used (PROTOCOL.md §5): a GET has no body to tell, so its
// reply is sealed under the label that caller's last request with a body used. Bounded, because
// every registered wallet could call; a forgotten caller just gets the default label.
import { LRUCache } from "lru-cache";
import { DEFAULT_ENVELOPE_LABEL, type EnvelopeLabel } from "../crypto/envelope.js";

export const DEFAULT_REMEMBERED_CALLERS = 10_000;

export class LabelMemory {
  private readonly byWallet: LRUCache<string, EnvelopeLabel>;

  constructor(maxCallers = DEFAULT_REMEMBERED_CALLERS) {
    this.byWallet = new LRUCache({ max: maxCallers });
  }

  /** Records the label a caller's request came under; `undefined` (the TEE could not tell) is ignored. */
  remember(wallet: string, label: EnvelopeLabel | undefined): void {
    if (label !== undefined && this.byWallet.get(wallet) !== label) this.byWallet.set(wallet, label);
  }

  /** The label to answer a body-less request with. */
  labelFor(wallet: string): EnvelopeLabel {
    return this.byWallet.get(wallet) ?? DEFAULT_ENVELOPE_LABEL;
  }
}
