// Default locations, anchored at the repository root so the tools behave the same from any cwd.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const DEFAULT_DEPLOYMENT_PATH = path.join(REPO_ROOT, ".devchain", "deployment.json");
