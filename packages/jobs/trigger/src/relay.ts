// One push of a relayed job to the suite's `POST /jobs/<type>`, apart from the task so that it can be run and
// tested without the Trigger.dev runtime.
import { SIGNATURE_HEADER, attributeHeader, encodeValue, signRelay } from "./signature.js";

/** The run payload the Python provider (jobs.providers.trigger) sends for each job. */
export interface RelayedJob {
  url: string;
  id: string;
  type: string;
  payload: unknown;
  attributes?: Record<string, string>;
}

/** Answers that no retry can change: the push endpoint's 422 (payload does not fit the job type's model) and
 * 489 (the handler raised PermanentJobError). Every other non-2xx answer is retried by Trigger.dev. */
export const PERMANENT_STATUSES = new Set([422, 489]);

export class PushFailed extends Error {
  constructor(
    readonly status: number,
    readonly permanent: boolean,
    detail: string,
  ) {
    super(`push answered HTTP ${status}: ${detail}`);
    this.name = "PushFailed";
  }
}

export interface RelayOptions {
  secret: string;
  attempt: number;
  /** When set, overrides the base of the URL in the payload: the deployment, not the producer, decides. */
  pushBaseUrl?: string;
  timeoutMs?: number;
}

export function pushUrl(job: RelayedJob, pushBaseUrl?: string): string {
  if (pushBaseUrl) {
    return `${pushBaseUrl.replace(/\/+$/, "")}/jobs/${encodeURIComponent(job.type)}`;
  }
  return job.url;
}

export async function relay(job: RelayedJob, options: RelayOptions): Promise<number> {
  const body = JSON.stringify(job.payload);
  const attributes = job.attributes ?? {};
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Job-Id": job.id,
    "X-Job-Attempt": String(options.attempt),
    [SIGNATURE_HEADER]: signRelay(options.secret, job.type, job.id, body, attributes),
  };
  // The signature covers the attributes, so a push whose request id was changed on the way is refused.
  for (const [key, value] of Object.entries(attributes)) {
    headers[attributeHeader(key)] = encodeValue(value);
  }
  const response = await fetch(pushUrl(job, options.pushBaseUrl), {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  });
  if (response.ok) {
    return response.status;
  }
  const detail = (await response.text()).slice(0, 500);
  throw new PushFailed(response.status, PERMANENT_STATUSES.has(response.status), detail);
}
