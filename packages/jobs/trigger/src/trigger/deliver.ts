// The one task the suite runs on Trigger.dev: it relays a job to the suite's push endpoint, where the Python
// handler runs. A non-2xx answer throws, so Trigger.dev's retry policy runs the attempt again (maxAttempts is
// set per run by the provider from JOBS_MAX_ATTEMPTS); a permanent refusal aborts the run without retries.
import { AbortTaskRunError, logger, task } from "@trigger.dev/sdk";
import { PushFailed, relay, type RelayedJob } from "../relay.js";

export const deliver = task({
  id: "jobs-deliver",
  maxDuration: 300,
  retry: {
    maxAttempts: 5,
    factor: 2,
    minTimeoutInMs: 1_000,
    maxTimeoutInMs: 60_000,
    randomize: true,
  },
  run: async (job: RelayedJob, { ctx }) => {
    const secret = process.env.JOBS_RELAY_SECRET;
    if (!secret) {
      throw new AbortTaskRunError("JOBS_RELAY_SECRET is not set in this Trigger.dev environment");
    }
    try {
      const status = await relay(job, {
        secret,
        attempt: ctx.attempt.number,
        pushBaseUrl: process.env.JOBS_PUSH_BASE_URL,
      });
      logger.info("job delivered", { jobId: job.id, jobType: job.type, status });
      return { status };
    } catch (error) {
      if (error instanceof PushFailed && error.permanent) {
        throw new AbortTaskRunError(error.message);
      }
      throw error;
    }
  },
});
