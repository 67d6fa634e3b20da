// The push signature and attribute headers the suite's push endpoint verifies (packages/jobs/jobs/relay_signature.py
// computes the same): `t=<unix seconds>,v2=<hex HMAC-SHA256>` over
// "<t>.<job type>.<job id>.<attributes>." + the body's bytes, where <attributes> is `key=value` pairs sorted by key,
// values percent-encoded (RFC 3986), joined by "&". Attributes travel as `X-Job-Attr-<Key>` headers: `_` in a key is
// written `-`, since servers drop header names with underscores.
import { createHmac } from "node:crypto";

export const SIGNATURE_HEADER = "X-Jobs-Signature";
export const ATTRIBUTE_PREFIX = "X-Job-Attr-";

/** RFC 3986 percent-encoding: every byte but A-Z a-z 0-9 - . _ ~ (encodeURIComponent leaves !'()* too). */
export function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `request_id` -> `X-Job-Attr-Request-Id`. */
export function attributeHeader(key: string): string {
  return (
    ATTRIBUTE_PREFIX +
    key
      .split("_")
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join("-")
  );
}

export function canonicalAttributes(attributes: Record<string, string>): string {
  return Object.keys(attributes)
    .sort()
    .map((key) => `${key}=${encodeValue(attributes[key])}`)
    .join("&");
}

export function signRelay(
  secret: string,
  jobType: string,
  jobId: string,
  body: string,
  attributes: Record<string, string> = {},
  now: number = Date.now(),
): string {
  const timestamp = Math.floor(now / 1000);
  const digest = createHmac("sha256", secret)
    .update(`${timestamp}.${jobType}.${jobId}.${canonicalAttributes(attributes)}.`, "utf8")
    .update(body, "utf8")
    .digest("hex");
  return `t=${timestamp},v2=${digest}`;
}
