import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import fc from "fast-check";
import { X509Certificate, createHash, createPrivateKey, type webcrypto } from "node:crypto";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { bytesToHex, hexToBytes } from "../../../enclave/crypto/bytes.js";
import {
  CertificatePolicyError,
  type CertificatePolicyErrorCode,
  type ClusterCa,
  LEAF_BACKDATE_SECONDS,
  createClusterCa,
  makeCertificatePolicy,
} from "../../../enclave/crypto/ca.js";
import { deriveInternalKey } from "../../../enclave/crypto/kdf.js";

const DAY_MS = 86_400_000;
const SEED = hexToBytes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const POLICY = makeCertificatePolicy({ dnsSuffixes: ["apps.nova.test"] });
const NOW = Date.UTC(2026, 5, 15, 12, 30, 45);

type Sans = x509.JsonGeneralName[];
type KeyPair = webcrypto.CryptoKeyPair;
type EcdsaParams = webcrypto.EcdsaParams;
type Algorithm = webcrypto.Algorithm;

async function ecKeys(curve: "P-256" | "P-384" | "P-521"): Promise<KeyPair> {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"]);
}

async function makeCsr(
  keys: KeyPair,
  opts: { name?: string; sans?: Sans; signingAlgorithm?: Algorithm | EcdsaParams } = {},
): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: opts.name ?? "CN=requested-by-app",
    keys,
    signingAlgorithm: opts.signingAlgorithm ?? ({ name: "ECDSA", hash: "SHA-256" } as EcdsaParams),
    extensions: opts.sans ? [new x509.SubjectAlternativeNameExtension(opts.sans)] : [],
  });
  return csr.toString("pem");
}

function pemToDer(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64"));
}

function derToPem(der: Uint8Array, label = "CERTIFICATE REQUEST"): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function expectPolicyError(
  fn: () => unknown,
  code: CertificatePolicyErrorCode,
  message?: RegExp,
): CertificatePolicyError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CertificatePolicyError);
  const err = caught as CertificatePolicyError;
  expect(err.code).toBe(code);
  expect(err.status).toBe(400);
  if (message) expect(err.message).toMatch(message);
  return err;
}

function spkiSubjectPublicKey(cert: x509.X509Certificate): Uint8Array {
  // The last 65/97 bytes of an uncompressed EC SPKI are the point.
  const spki = new Uint8Array(cert.publicKey.rawData);
  const len =
    cert.publicKey.algorithm.name === "ECDSA" &&
    (cert.publicKey.algorithm as webcrypto.EcKeyAlgorithm).namedCurve === "P-384"
      ? 97
      : 65;
  return spki.slice(spki.length - len);
}

let ca: ClusterCa;
let p256Keys: KeyPair;
let p384Keys: KeyPair;
let basicCsr: string;
let pemOfNoSans: string;

beforeAll(async () => {
  ca = createClusterCa(SEED, { defaultPolicy: POLICY });
  p256Keys = await ecKeys("P-256");
  p384Keys = await ecKeys("P-384");
  basicCsr = await makeCsr(p256Keys, { sans: [{ type: "dns", value: "app-42.apps.nova.test" }] });
  pemOfNoSans = await makeCsr(p256Keys);
});

describe("cluster CA certificate", () => {
  it("is byte-identical when built independently from the same seed", () => {
    const a = createClusterCa(SEED);
    const b = createClusterCa(new Uint8Array(SEED), { defaultPolicy: POLICY });
    expect(bytesToHex(a.certificateDer)).toBe(bytesToHex(b.certificateDer));
    expect(a.certificatePem).toBe(b.certificatePem);
    expect(bytesToHex(a.certificateDer)).toBe(bytesToHex(ca.certificateDer));
  });

  it("differs for a different seed (key, serial, name, SKI)", () => {
    const other = createClusterCa(hexToBytes("ff".repeat(32)));
    expect(bytesToHex(other.certificateDer)).not.toBe(bytesToHex(ca.certificateDer));
    const a = new X509Certificate(ca.certificatePem);
    const b = new X509Certificate(other.certificatePem);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.subject).not.toBe(b.subject);
    expect(
      a.publicKey.export({ format: "der", type: "spki" }).equals(b.publicKey.export({ format: "der", type: "spki" })),
    ).toBe(false);
    expect(bytesToHex(other.subjectKeyIdentifier)).not.toBe(bytesToHex(ca.subjectKeyIdentifier));
  });

  it("matches the pinned known answer for the shared test master secret", () => {
    // Pins the exact bytes: a dependency upgrade that changes the encoding would split a cluster
    // whose nodes run different builds, so it must be a deliberate change to this value.
    const seed = deriveInternalKey(hexToBytes(vectors.master_secret_hex), { kind: "ca-root" });
    const der = createClusterCa(seed).certificateDer;
    expect(createHash("sha256").update(der).digest("hex")).toBe(KNOWN_CA_SHA256);
  });

  it("is a self-signed P-256 CA with derived serial and fixed validity", () => {
    const cert = new X509Certificate(ca.certificatePem);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.subject).toBe(cert.issuer);
    expect(cert.subject).toMatch(/^O=Nova KMS\nCN=Nova KMS Cluster CA [0-9a-f]{16}$/);
    expect(cert.subject).toContain(bytesToHex(ca.subjectKeyIdentifier).slice(0, 16));
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(new Date(cert.validFrom).toISOString()).toBe("2025-01-01T00:00:00.000Z");
    expect(new Date(cert.validTo).toISOString()).toBe("2125-01-01T00:00:00.000Z");
    expect(ca.notBefore.toISOString()).toBe("2025-01-01T00:00:00.000Z");
    // 16 octets, positive (high bit clear), no leading zero.
    expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
  });

  it("carries BasicConstraints CA:true pathLen 0 and KeyUsage keyCertSign+cRLSign, both critical, plus SKI/AKI", () => {
    const cert = new x509.X509Certificate(ca.certificatePem);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.critical).toBe(true);
    expect(bc?.ca).toBe(true);
    expect(bc?.pathLength).toBe(0);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    expect(ski?.critical).toBe(false);
    expect(ski?.keyId).toBe(bytesToHex(ca.subjectKeyIdentifier));
    // RFC 7093 method 1: leftmost 160 bits of SHA-256 over the public key bits.
    const point = spkiSubjectPublicKey(cert);
    expect(ski?.keyId).toBe(createHash("sha256").update(point).digest("hex").slice(0, 40));
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(ski?.keyId);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)).toBeNull();
  });

  it("hands out copies of its DER, so callers cannot alter what other callers see", () => {
    const der = ca.certificateDer;
    der[10] = (der[10] as number) ^ 0xff;
    expect(ca.certificateDer[10]).not.toBe(der[10]);
    const ski = ca.subjectKeyIdentifier;
    ski[0] = (ski[0] as number) ^ 0xff;
    expect(ca.subjectKeyIdentifier[0]).not.toBe(ski[0]);
  });

  it("rejects a seed that is not 32 bytes", () => {
    expect(() => createClusterCa(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => createClusterCa(new Uint8Array(33))).toThrow(/32 bytes/);
  });
});

describe("signCsr issues a leaf", () => {
  it("that chains to the CA (node:crypto and @peculiar/x509)", async () => {
    const issued = ca.signCsr({ csrPem: basicCsr, appId: 42n });
    const leaf = new X509Certificate(issued.certificatePem);
    const root = new X509Certificate(ca.certificatePem);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(
      leaf.verify(new X509Certificate(createClusterCa(hexToBytes("ab".repeat(32))).certificatePem).publicKey),
    ).toBe(false);
    expect(leaf.issuer).toBe(root.subject);

    const pLeaf = new x509.X509Certificate(issued.certificatePem);
    const pRoot = new x509.X509Certificate(ca.certificatePem);
    expect(await pLeaf.verify({ publicKey: pRoot, date: new Date() })).toBe(true);
    const chain = await new x509.X509ChainBuilder({ certificates: [pRoot] }).build(pLeaf);
    expect(chain.map((c) => c.subject)).toEqual([pLeaf.subject, pRoot.subject]);
    expect(Buffer.from(issued.certificateDer).equals(leaf.raw)).toBe(true);
  });

  it("whose subject is CN=app-<appId> whatever the CSR asked for", () => {
    const issued = ca.signCsr({ csrPem: basicCsr, appId: 42n });
    expect(new X509Certificate(issued.certificatePem).subject).toBe("CN=app-42");
    expect(issued.subject).toBe("CN=app-42");
  });

  it("with the CSR's key, SKI of that key, AKI = CA SKI, KeyUsage, EKU and CA:false", async () => {
    const issued = ca.signCsr({ csrPem: basicCsr, appId: 42n });
    const cert = new x509.X509Certificate(issued.certificatePem);
    const csrKey = new Uint8Array(await crypto.subtle.exportKey("spki", p256Keys.publicKey));
    expect(bytesToHex(new Uint8Array(cert.publicKey.rawData))).toBe(bytesToHex(csrKey));

    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.critical).toBe(true);
    expect(bc?.ca).toBe(false);
    expect(bc?.pathLength).toBeUndefined();
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    expect(eku?.critical).toBe(false);
    expect(eku?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(ski).toBe(createHash("sha256").update(spkiSubjectPublicKey(cert)).digest("hex").slice(0, 40));
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(bytesToHex(ca.subjectKeyIdentifier));
    expect(new X509Certificate(issued.certificatePem).keyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
  });

  it("with exactly the allowed SANs, lower-cased and de-duplicated", async () => {
    const csrPem = await makeCsr(p256Keys, {
      sans: [
        { type: "dns", value: "APP-7.apps.nova.test" },
        { type: "dns", value: "api.app-7.apps.nova.test" },
        { type: "dns", value: "app-7.apps.nova.test" },
        { type: "dns", value: "*.app-7.apps.nova.test" },
      ],
    });
    const issued = ca.signCsr({ csrPem, appId: 7n });
    expect(new X509Certificate(issued.certificatePem).subjectAltName).toBe(
      "DNS:app-7.apps.nova.test, DNS:api.app-7.apps.nova.test, DNS:*.app-7.apps.nova.test",
    );
    expect(issued.subjectAltNames.map((n) => n.value)).toEqual([
      "app-7.apps.nova.test",
      "api.app-7.apps.nova.test",
      "*.app-7.apps.nova.test",
    ]);
  });

  it("without a SAN extension when none was requested", async () => {
    const csrPem = await makeCsr(p256Keys);
    const cert = new x509.X509Certificate(ca.signCsr({ csrPem, appId: 1n }).certificatePem);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)).toBeNull();
  });

  it("with IP and URI SANs when the policy allows them", async () => {
    const policy = makeCertificatePolicy({ allowIpAddresses: true, uriPrefixes: ["spiffe://nova-kms/app/"] });
    const csrPem = await makeCsr(p256Keys, {
      sans: [
        { type: "ip", value: "10.1.2.3" },
        { type: "ip", value: "2001:db8::1" },
        { type: "url", value: "spiffe://nova-kms/app/9" },
      ],
    });
    const issued = ca.signCsr({ csrPem, appId: 9n, policy });
    expect(new X509Certificate(issued.certificatePem).subjectAltName).toBe(
      "IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:1, URI:spiffe://nova-kms/app/9",
    );
  });

  it("valid for the default 90 days from a minute before `now`, or the requested days", () => {
    const dflt = ca.signCsr({ csrPem: basicCsr, appId: 42n, now: NOW + 123 });
    expect(dflt.notBefore.getTime()).toBe(NOW - LEAF_BACKDATE_SECONDS * 1000);
    expect(dflt.notAfter.getTime() - dflt.notBefore.getTime()).toBe(90 * DAY_MS);
    const cert = new X509Certificate(dflt.certificatePem);
    expect(new Date(cert.validFrom).getTime()).toBe(dflt.notBefore.getTime());
    expect(new Date(cert.validTo).getTime()).toBe(dflt.notAfter.getTime());

    for (const days of [1, 30, 90]) {
      const issued = ca.signCsr({ csrPem: basicCsr, appId: 42n, now: NOW, validityDays: days });
      expect(issued.notAfter.getTime() - issued.notBefore.getTime()).toBe(days * DAY_MS);
    }
  });

  it("for P-384 keys and for SHA-384/SHA-512 CSR signatures", async () => {
    const csr384 = await makeCsr(p384Keys, { signingAlgorithm: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams });
    const leaf384 = new X509Certificate(ca.signCsr({ csrPem: csr384, appId: 5n }).certificatePem);
    expect(leaf384.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(leaf384.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    const csr384sha256 = await makeCsr(p384Keys, {
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
    });
    expect(ca.signCsr({ csrPem: csr384sha256, appId: 5n }).subject).toBe("CN=app-5");
    const csr256sha512 = await makeCsr(p256Keys, {
      signingAlgorithm: { name: "ECDSA", hash: "SHA-512" } as EcdsaParams,
    });
    expect(ca.signCsr({ csrPem: csr256sha512, appId: 5n }).subject).toBe("CN=app-5");
  });

  it("with a fresh random positive serial each time", () => {
    const serials = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const issued = ca.signCsr({ csrPem: basicCsr, appId: 42n, now: NOW });
      expect(issued.serialNumberHex).toMatch(/^[4-7][0-9a-f]{31}$/);
      expect(new X509Certificate(issued.certificatePem).serialNumber.toLowerCase()).toBe(issued.serialNumberHex);
      serials.add(issued.serialNumberHex);
    }
    expect(serials.size).toBe(8);
  });

  it("for any app id up to uint256 (subject only: such long ids cannot form a DNS label)", () => {
    const max = 2n ** 256n - 1n;
    const cert = new X509Certificate(ca.signCsr({ csrPem: pemOfNoSans, appId: max }).certificatePem);
    expect(cert.subject).toBe(`CN=app-${max}`);
    expect(new X509Certificate(ca.signCsr({ csrPem: pemOfNoSans, appId: 0n }).certificatePem).subject).toBe("CN=app-0");
    expect(() => ca.signCsr({ csrPem: pemOfNoSans, appId: -1n })).toThrow(RangeError);
    expect(() => ca.signCsr({ csrPem: pemOfNoSans, appId: 1 as unknown as bigint })).toThrow(RangeError);
  });

  it("identically on two nodes given the same randomness (issuer bytes do not depend on the node)", () => {
    const fixed = () => new Uint8Array(16).fill(0x5a);
    const a = createClusterCa(SEED, { randomBytes: fixed }).signCsr({
      csrPem: basicCsr,
      appId: 42n,
      now: NOW,
      policy: POLICY,
    });
    const b = createClusterCa(SEED, { randomBytes: fixed }).signCsr({
      csrPem: basicCsr,
      appId: 42n,
      now: NOW,
      policy: POLICY,
    });
    expect(bytesToHex(a.certificateDer)).toBe(bytesToHex(b.certificateDer));
  });
});

describe("issued certificates in a real TLS handshake", () => {
  it("authenticate a server by its DNS SAN and a client, both trusting only the cluster CA", async () => {
    const keyPem = async (keys: KeyPair) =>
      createPrivateKey({
        key: Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey)),
        format: "der",
        type: "pkcs8",
      })
        .export({ format: "pem", type: "pkcs8" })
        .toString();
    const serverCert = ca.signCsr({ csrPem: basicCsr, appId: 42n }).certificatePem;
    const clientCert = ca.signCsr({
      csrPem: await makeCsr(p384Keys, { signingAlgorithm: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams }),
      appId: 43n,
    }).certificatePem;

    const server = tls.createServer(
      {
        key: await keyPem(p256Keys),
        cert: serverCert,
        ca: ca.certificatePem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => {
        socket.end(`hello ${(socket.getPeerCertificate().subject as { CN?: string }).CN}`);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const clientKey = await keyPem(p384Keys);
      const connect = (servername: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = tls.connect({
            host: "127.0.0.1",
            port,
            servername,
            ca: ca.certificatePem,
            key: clientKey,
            cert: clientCert,
          });
          let data = "";
          socket.on("data", (d) => (data += d.toString()));
          socket.on("end", () => resolve(data));
          socket.on("error", reject);
        });
      expect(await connect("app-42.apps.nova.test")).toBe("hello app-43");
      await expect(connect("app-43.apps.nova.test")).rejects.toThrow(/altnames|Hostname/i);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("signCsr refuses", () => {
  it("a CSR whose signed content was altered (subject byte flipped)", async () => {
    const der = pemToDer(await makeCsr(p256Keys, { name: "CN=tamper-me" }));
    const at = Buffer.from(der).indexOf("tamper-me");
    expect(at).toBeGreaterThan(0);
    der[at] = "T".charCodeAt(0);
    expectPolicyError(() => ca.signCsr({ csrPem: derToPem(der), appId: 1n }), "csr_signature_invalid");
  });

  it("a CSR whose signature was altered", () => {
    const der = pemToDer(basicCsr);
    der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
    expectPolicyError(() => ca.signCsr({ csrPem: derToPem(der), appId: 42n }), "csr_signature_invalid");
  });

  it("a CSR whose requested SANs were altered after signing", async () => {
    const der = pemToDer(await makeCsr(p256Keys, { sans: [{ type: "dns", value: "app-42.apps.nova.test" }] }));
    const at = Buffer.from(der).indexOf("app-42");
    der[at + 5] = "3".charCodeAt(0); // app-43: another app's name
    expectPolicyError(() => ca.signCsr({ csrPem: derToPem(der), appId: 43n }), "csr_signature_invalid");
  });

  it("a DNS SAN outside the app's names, naming the SAN in the error", async () => {
    for (const name of [
      "evil.example.com",
      "app-43.apps.nova.test",
      "app-420.apps.nova.test",
      "x.app-4.apps.nova.test",
    ]) {
      const csrPem = await makeCsr(p256Keys, {
        sans: [
          { type: "dns", value: "app-42.apps.nova.test" },
          { type: "dns", value: name },
        ],
      });
      const err = expectPolicyError(() => ca.signCsr({ csrPem, appId: 42n }), "san_not_allowed");
      expect(err.message).toContain(name);
    }
  });

  it("email SANs, and IP SANs unless the policy allows them", async () => {
    const email = await makeCsr(p256Keys, { sans: [{ type: "email", value: "a@app-1.apps.nova.test" }] });
    expectPolicyError(() => ca.signCsr({ csrPem: email, appId: 1n }), "san_not_allowed", /email/);
    const ip = await makeCsr(p256Keys, { sans: [{ type: "ip", value: "127.0.0.1" }] });
    expectPolicyError(() => ca.signCsr({ csrPem: ip, appId: 1n }), "san_not_allowed", /127\.0\.0\.1/);
    const uri = await makeCsr(p256Keys, { sans: [{ type: "url", value: "spiffe://nova-kms/app/2" }] });
    expectPolicyError(
      () =>
        ca.signCsr({
          csrPem: uri,
          appId: 1n,
          policy: makeCertificatePolicy({ uriPrefixes: ["spiffe://nova-kms/app/"] }),
        }),
      "san_not_allowed",
      /spiffe/,
    );
  });

  it("validity above the cap, zero, negative or fractional", () => {
    expectPolicyError(
      () => ca.signCsr({ csrPem: basicCsr, appId: 42n, validityDays: 91 }),
      "validity_not_allowed",
      /exceeds the maximum of 90/,
    );
    expectPolicyError(() => ca.signCsr({ csrPem: basicCsr, appId: 42n, validityDays: 0 }), "validity_not_allowed");
    expectPolicyError(() => ca.signCsr({ csrPem: basicCsr, appId: 42n, validityDays: -5 }), "validity_not_allowed");
    expectPolicyError(() => ca.signCsr({ csrPem: basicCsr, appId: 42n, validityDays: 1.5 }), "validity_not_allowed");
    expectPolicyError(
      () => ca.signCsr({ csrPem: basicCsr, appId: 42n, validityDays: Number.NaN }),
      "validity_not_allowed",
    );
    const short = makeCertificatePolicy({ dnsSuffixes: ["apps.nova.test"], maxValidityDays: 7 });
    expectPolicyError(
      () => ca.signCsr({ csrPem: basicCsr, appId: 42n, validityDays: 8, policy: short }),
      "validity_not_allowed",
      /maximum of 7/,
    );
    expect(ca.signCsr({ csrPem: basicCsr, appId: 42n, policy: short, now: NOW }).notAfter.getTime()).toBe(
      NOW - 60_000 + 7 * DAY_MS,
    );
  });

  it("RSA, Ed25519 and P-521 keys, naming the key type", async () => {
    const rsa = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as KeyPair;
    const rsaCsr = await makeCsr(rsa, { signingAlgorithm: { name: "RSASSA-PKCS1-v1_5" } });
    expectPolicyError(() => ca.signCsr({ csrPem: rsaCsr, appId: 1n }), "unsupported_key_type", /RSA/);

    const ed = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as KeyPair;
    const edCsr = await makeCsr(ed, { signingAlgorithm: { name: "Ed25519" } });
    expectPolicyError(() => ca.signCsr({ csrPem: edCsr, appId: 1n }), "unsupported_key_type", /Ed25519/);

    const p521Csr = await makeCsr(await ecKeys("P-521"), {
      signingAlgorithm: { name: "ECDSA", hash: "SHA-512" } as EcdsaParams,
    });
    expectPolicyError(() => ca.signCsr({ csrPem: p521Csr, appId: 1n }), "unsupported_key_type", /P-521/);
  });

  it("garbage, wrong PEM labels, trailing bytes, truncation and oversized input", () => {
    const der = pemToDer(basicCsr);
    const cases: unknown[] = [
      "",
      "hello",
      basicCsr.replace(/CERTIFICATE REQUEST/g, "CERTIFICATE"),
      basicCsr + basicCsr,
      derToPem(new Uint8Array([...der, 0x00])),
      derToPem(der.slice(0, der.length - 10)),
      derToPem(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])),
      derToPem(Uint8Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff)),
      basicCsr.replace(/[A-Za-z0-9+/]{8}\n/, "!!!!!!!!\n"),
      `-----BEGIN CERTIFICATE REQUEST-----\n${"A".repeat(20_000)}\n-----END CERTIFICATE REQUEST-----\n`,
      ca.certificatePem,
      undefined,
      12345,
    ];
    for (const csrPem of cases)
      expectPolicyError(() => ca.signCsr({ csrPem: csrPem as string, appId: 1n }), "invalid_csr");
  });

  it("never an exception other than CertificatePolicyError for arbitrary text or DER (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.uint8Array({ maxLength: 400 }).map((b) => derToPem(b)),
        ),
        (input) => {
          expectPolicyError(() => ca.signCsr({ csrPem: input, appId: 3n }), "invalid_csr");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("every single-byte corruption of a valid CSR (exhaustive over positions)", () => {
    const der = pemToDer(basicCsr);
    const issuedFor: number[] = [];
    for (let index = 0; index < der.length; index++) {
      for (const flip of [0x01, 0x80]) {
        const bad = der.slice();
        bad[index] = (bad[index] as number) ^ flip;
        try {
          ca.signCsr({ csrPem: derToPem(bad), appId: 42n });
          issuedFor.push(index);
        } catch (err) {
          expect(err).toBeInstanceOf(CertificatePolicyError);
        }
      }
    }
    // Every byte is either signed, part of the framing, the algorithm or the signature itself.
    expect(issuedFor).toEqual([]);
  });
});

describe("validity cap (property)", () => {
  it("a leaf never outlives the policy maximum and is refused exactly when the request is out of range", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        // Either no request, any number, or one right at the edge of the cap (max-1 .. max+2).
        fc.oneof(
          fc.constant(undefined),
          fc.integer({ min: -5, max: 200 }),
          fc.integer({ min: -1, max: 2 }).map((delta) => ({ delta })),
        ),
        fc.integer({ min: Date.UTC(2025, 1, 1), max: Date.UTC(2120, 0, 1) }),
        (maxValidityDays, requested, now) => {
          const validityDays = typeof requested === "object" ? maxValidityDays + requested.delta : requested;
          const policy = makeCertificatePolicy({ dnsSuffixes: ["apps.nova.test"], maxValidityDays });
          const inRange = validityDays === undefined || (validityDays >= 1 && validityDays <= maxValidityDays);
          if (!inRange) {
            expectPolicyError(
              () => ca.signCsr({ csrPem: basicCsr, appId: 42n, validityDays, now, policy }),
              "validity_not_allowed",
            );
            return;
          }
          const issued = ca.signCsr({ csrPem: basicCsr, appId: 42n, validityDays, now, policy });
          const lifetime = issued.notAfter.getTime() - issued.notBefore.getTime();
          expect(lifetime).toBeLessThanOrEqual(maxValidityDays * DAY_MS);
          expect(lifetime).toBe((validityDays ?? maxValidityDays) * DAY_MS);
          expect(issued.notAfter.getTime()).toBeLessThanOrEqual(now + maxValidityDays * DAY_MS);
          expect(issued.notBefore.getTime()).toBeLessThanOrEqual(now);
        },
      ),
      { numRuns: 60 },
    );
  });
});

// sha256 of the CA certificate DER for seed = deriveInternalKey(vector master secret, ca-root).
const KNOWN_CA_SHA256 = "738790650694a186f6cec8e6f4c0ba217f3afdfcd8f1a890b66d508b35fbc793";
