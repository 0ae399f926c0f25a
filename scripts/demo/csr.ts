// A PKCS#10 request as an app would make one: a fresh P-256 key from WebCrypto, self-signed CSR.
// @peculiar/x509 needs reflect-metadata loaded before it, or it throws at import.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

export async function createCsrPem(subject: string): Promise<string> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256" } as const;
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  return csr.toString("pem");
}
