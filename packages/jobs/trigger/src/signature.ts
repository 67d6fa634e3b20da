// The push signature the suite's push endpoint verifies (packages/jobs/jobs/relay_signature.py computes the
// same): `t=<unix seconds>,v1=<hex HMAC-SHA256>` over "<t>.<job type>.<job id>." + the body's bytes.
import { createHmac } from "node:crypto";

export const SIGNATURE_HEADER = "X-Jobs-Signature";

export function signRelay(
  secret: string,
  jobType: string,
  jobId: string,
  body: string,
  now: number = Date.now(),
): string {
  const timestamp = Math.floor(now / 1000);
  const digest = createHmac("sha256", secret)
    .update(`${timestamp}.${jobType}.${jobId}.`, "utf8")
    .update(body, "utf8")
    .digest("hex");
  return `t=${timestamp},v1=${digest}`;
}
