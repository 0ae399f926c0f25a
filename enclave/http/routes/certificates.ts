// POST /kms/sign_cert (PROTOCOL.md §9): a leaf certificate from the cluster CA for the caller's
// app. Subject and SANs are bound to the registry's app id by the CA's policy, never the CSR.
// The body schema is strict (an unknown field is a 400): a body fits this route only.
import { Hono } from "hono";
import { z } from "zod";
import { base64ToBytes } from "../../crypto/bytes.js";
import { CertificatePolicyError } from "../../crypto/ca.js";
import { badRequest } from "../../errors.js";
import { OPERATIONS } from "../../protocol/operations.js";
import { replyToApp } from "../app-reply.js";
import type { KmsEnv } from "../context.js";
import { parseBody } from "../validate.js";

const signCertRequest = z
  .object({
    csr: z
      .string()
      .min(1, "must be base64 of a PEM certificate request")
      .max(32 * 1024),
    validity_days: z.number().int().optional(),
    op: z.literal(OPERATIONS.signCert).optional(),
  })
  .strict();

const toBase64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

export function certificateRoutes() {
  return new Hono<KmsEnv>().post("/sign_cert", async (c) => {
    const request = parseBody(signCertRequest, c.get("body"));
    let csrPem: string;
    try {
      csrPem = new TextDecoder("utf-8", { fatal: true }).decode(base64ToBytes(request.csr));
    } catch {
      throw badRequest("Invalid csr: must be base64 of a PEM certificate request");
    }
    const { ca } = c.get("keys");
    let issued;
    try {
      issued = ca.signCsr({ csrPem, appId: c.get("caller").appId, validityDays: request.validity_days });
    } catch (e) {
      if (e instanceof CertificatePolicyError) throw badRequest(e.message);
      throw e;
    }
    return replyToApp(c, {
      certificate: toBase64(issued.certificatePem),
      ca_certificate: toBase64(ca.certificatePem),
    });
  });
}
