import { GeneralName, Name, OtherName } from "@peculiar/asn1-x509";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CertificatePolicyError } from "../../../enclave/crypto/ca-errors.js";
import {
  DEFAULT_CERTIFICATE_POLICY,
  MAX_SUBJECT_ALT_NAMES,
  checkSubjectAltNames,
  makeCertificatePolicy,
  resolveValidityDays,
} from "../../../enclave/crypto/ca-policy.js";

const dns = (dNSName: string) => new GeneralName({ dNSName });
const ip = (iPAddress: string) => new GeneralName({ iPAddress });
const uri = (uniformResourceIdentifier: string) => new GeneralName({ uniformResourceIdentifier });

const POLICY = makeCertificatePolicy({
  dnsSuffixes: ["apps.nova.test", ".Other.Example"],
  uriPrefixes: ["spiffe://nova-kms/app/"],
});

function refused(fn: () => unknown): CertificatePolicyError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CertificatePolicyError);
    expect((err as CertificatePolicyError).code).toBe("san_not_allowed");
    return err as CertificatePolicyError;
  }
  throw new Error("expected a san_not_allowed refusal");
}

describe("makeCertificatePolicy", () => {
  it("defaults to no SANs and a 90-day default and ceiling", () => {
    expect(makeCertificatePolicy()).toEqual(DEFAULT_CERTIFICATE_POLICY);
    expect(DEFAULT_CERTIFICATE_POLICY).toMatchObject({
      dnsSuffixes: [],
      allowIpAddresses: false,
      uriPrefixes: [],
      defaultValidityDays: 90,
      maxValidityDays: 90,
    });
  });

  it("normalises suffixes (lower case, no leading dot, no duplicates)", () => {
    expect(POLICY.dnsSuffixes).toEqual(["apps.nova.test", "other.example"]);
    expect(makeCertificatePolicy({ dnsSuffixes: ["A.test", "a.test"] }).dnsSuffixes).toEqual(["a.test"]);
  });

  it("refuses configurations that would widen or break the policy", () => {
    expect(() => makeCertificatePolicy({ maxValidityDays: 91 })).toThrow(RangeError);
    expect(() => makeCertificatePolicy({ maxValidityDays: 0 })).toThrow(RangeError);
    expect(() => makeCertificatePolicy({ maxValidityDays: 10, defaultValidityDays: 11 })).toThrow(RangeError);
    expect(() => makeCertificatePolicy({ defaultValidityDays: 0 })).toThrow(RangeError);
    expect(() => makeCertificatePolicy({ dnsSuffixes: [""] })).toThrow(RangeError);
    expect(() => makeCertificatePolicy({ dnsSuffixes: ["*.example"] })).toThrow(RangeError);
    expect(() => makeCertificatePolicy({ dnsSuffixes: ["bad_label.example"] })).toThrow(RangeError);
    expect(() => makeCertificatePolicy({ uriPrefixes: ["no scheme"] })).toThrow(RangeError);
    expect(makeCertificatePolicy({ maxValidityDays: 30 }).defaultValidityDays).toBe(30);
  });

  it("returns a frozen policy", () => {
    expect(Object.isFrozen(POLICY)).toBe(true);
    expect(Object.isFrozen(POLICY.dnsSuffixes)).toBe(true);
  });
});

describe("resolveValidityDays", () => {
  it("defaults, accepts 1..max and refuses the rest with validity_not_allowed", () => {
    const policy = makeCertificatePolicy({ maxValidityDays: 30, defaultValidityDays: 7 });
    expect(resolveValidityDays(undefined, policy)).toBe(7);
    expect(resolveValidityDays(1, policy)).toBe(1);
    expect(resolveValidityDays(30, policy)).toBe(30);
    for (const bad of [0, -1, 31, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "10" as unknown as number]) {
      expect(() => resolveValidityDays(bad, policy)).toThrow(CertificatePolicyError);
    }
  });
});

describe("checkSubjectAltNames", () => {
  it("allows the app's own names under each suffix and below them", () => {
    const out = checkSubjectAltNames(
      [
        dns("app-7.apps.nova.test"),
        dns("App-7.Other.Example"),
        dns("a.b.app-7.apps.nova.test"),
        dns("*.app-7.other.example"),
      ],
      7n,
      POLICY,
    );
    expect(out).toEqual([
      { type: "dns", value: "app-7.apps.nova.test" },
      { type: "dns", value: "app-7.other.example" },
      { type: "dns", value: "a.b.app-7.apps.nova.test" },
      { type: "dns", value: "*.app-7.other.example" },
    ]);
  });

  it("refuses other apps' names, look-alikes and names outside the suffixes, naming them", () => {
    for (const name of [
      "app-70.apps.nova.test",
      "app-7.apps.nova.test.evil.com",
      "app-7apps.nova.test",
      "xapp-7.apps.nova.test",
      "app-7.nova.test",
      "apps.nova.test",
      "evil.com",
      "app-7.apps.nova.test.",
      "a..app-7.apps.nova.test",
      "*.*.app-7.apps.nova.test",
      "a*.app-7.apps.nova.test",
      "-a.app-7.apps.nova.test",
      "a_b.app-7.apps.nova.test",
      "ünï.app-7.apps.nova.test",
      `${"a".repeat(64)}.app-7.apps.nova.test`,
    ]) {
      expect(refused(() => checkSubjectAltNames([dns(name)], 7n, POLICY)).message).toContain(
        JSON.stringify(name).slice(1, 20),
      );
    }
  });

  it("allows only the exact app name when subdomains are off", () => {
    const strict = makeCertificatePolicy({ dnsSuffixes: ["apps.nova.test"], allowSubdomains: false });
    expect(checkSubjectAltNames([dns("app-7.apps.nova.test")], 7n, strict)).toHaveLength(1);
    refused(() => checkSubjectAltNames([dns("api.app-7.apps.nova.test")], 7n, strict));
    refused(() => checkSubjectAltNames([dns("*.app-7.apps.nova.test")], 7n, strict));
  });

  it("refuses every DNS name when no suffix is configured", () => {
    expect(
      refused(() => checkSubjectAltNames([dns("app-7.apps.nova.test")], 7n, DEFAULT_CERTIFICATE_POLICY)).message,
    ).toMatch(/no DNS suffix configured/);
  });

  it("refuses IP addresses unless enabled, then accepts single v4/v6 addresses only", () => {
    expect(refused(() => checkSubjectAltNames([ip("10.0.0.1")], 7n, POLICY)).message).toMatch(/IP:10\.0\.0\.1/);
    const withIp = makeCertificatePolicy({ allowIpAddresses: true });
    expect(checkSubjectAltNames([ip("10.0.0.1"), ip("::1")], 7n, withIp)).toEqual([
      { type: "ip", value: "10.0.0.1" },
      { type: "ip", value: "::1" },
    ]);
    refused(() => checkSubjectAltNames([ip("10.0.0.0/8")], 7n, withIp));
  });

  it("allows URIs under a configured prefix bound to the app id only", () => {
    expect(
      checkSubjectAltNames([uri("spiffe://nova-kms/app/7"), uri("spiffe://nova-kms/app/7/worker")], 7n, POLICY),
    ).toHaveLength(2);
    for (const bad of [
      "spiffe://nova-kms/app/70",
      "spiffe://nova-kms/app/8",
      "spiffe://nova-kms/app/7?x",
      "https://evil/app/7",
      "spiffe://nova-kms/app/7 x",
    ]) {
      refused(() => checkSubjectAltNames([uri(bad)], 7n, POLICY));
    }
  });

  it("refuses email, directoryName, otherName and registeredID", () => {
    refused(() => checkSubjectAltNames([new GeneralName({ rfc822Name: "a@app-7.apps.nova.test" })], 7n, POLICY));
    refused(() => checkSubjectAltNames([new GeneralName({ directoryName: new Name() })], 7n, POLICY));
    refused(() =>
      checkSubjectAltNames(
        [new GeneralName({ otherName: new OtherName({ typeId: "1.2.3", value: new ArrayBuffer(2) }) })],
        7n,
        POLICY,
      ),
    );
    refused(() => checkSubjectAltNames([new GeneralName({ registeredID: "1.2.3.4" })], 7n, POLICY));
  });

  it("refuses the whole list if any entry is refused, and caps the number of entries", () => {
    refused(() => checkSubjectAltNames([dns("app-7.apps.nova.test"), dns("evil.com")], 7n, POLICY));
    const many = Array.from({ length: MAX_SUBJECT_ALT_NAMES + 1 }, (_, i) => dns(`h${i}.app-7.apps.nova.test`));
    expect(refused(() => checkSubjectAltNames(many, 7n, POLICY)).message).toMatch(/at most/);
    expect(checkSubjectAltNames(many.slice(1), 7n, POLICY)).toHaveLength(MAX_SUBJECT_ALT_NAMES);
  });

  it("escapes control characters of hostile names in the error message", () => {
    const message = refused(() => checkSubjectAltNames([dns("evil\n.com\u0000")], 7n, POLICY)).message;
    expect([...message].some((ch) => (ch.codePointAt(0) ?? 0x20) < 0x20)).toBe(false);
    expect(message).toContain("\\n");
  });

  it("never allows a name for two different apps (property)", () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.array(label, { maxLength: 3 }),
        fc.constantFrom("apps.nova.test", "other.example"),
        (a, b, prefix, suffix) => {
          fc.pre(a !== b);
          const name = [...prefix, `app-${a}`, suffix].join(".");
          expect(checkSubjectAltNames([dns(name)], a, POLICY)).toEqual([{ type: "dns", value: name }]);
          refused(() => checkSubjectAltNames([dns(name)], b, POLICY));
        },
      ),
    );
  });
});
