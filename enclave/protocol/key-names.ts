// The names of named keys and secrets (PROTOCOL.md §12), shared by node and SDK: path-safe and
// bounded, `[A-Za-z0-9_.-]{1,128}`, but not "." or "..", which every URL parser turns into a dot
// segment (such a key could be made but never named in a path). ASCII only, so a name's UTF-8 is
// its latin1 (the ciphertext codec relies on it).
export const KEY_NAME_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,128}$/;
