// Parses enum arguments given by name (case-insensitive) or by number, so CLI users can write
// `set-instance-status 3 stopped` instead of remembering that STOPPED is 1.
import { AppStatus, InstanceStatus, VersionStatus } from "../../enclave/chain/types.js";

function parser<T extends Record<string, number>>(kind: string, values: T) {
  return (input: string): T[keyof T] => {
    const upper = input.trim().toUpperCase();
    if (upper in values) return values[upper as keyof T];
    const known = Object.values(values) as number[];
    if (/^\d+$/.test(upper) && known.includes(Number(upper))) return Number(upper) as T[keyof T];
    throw new Error(
      `unknown ${kind} status "${input}" (one of ${Object.keys(values).join(", ")} or ${known.join(", ")})`,
    );
  };
}

export const parseAppStatus = parser("app", AppStatus);
export const parseVersionStatus = parser("version", VersionStatus);
export const parseInstanceStatus = parser("instance", InstanceStatus);
