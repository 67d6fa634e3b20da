-- Top 5 loads with the best insights.
--
-- "Best" = the model's per-load score from gpt-service (0..1, higher = more attractive to the carrier:
-- it weighs rate per mile against the lane's spread, recency and how complete the posting is).
-- Ties are broken by rate per mile (a posted price over known miles beats an unknown one), then
-- by the most recent posting. Loads never summarised (no score) are left out.
-- Reads the materialized view loadboard.load_insights (each load joined to its latest summary),
-- whose index load_insights_rank_idx matches this ORDER BY.
SELECT load_id,
       portal,
       portal_load_id,
       origin_city || ', ' || origin_state           AS origin,
       destination_city || ', ' || destination_state AS destination,
       price,
       currency,
       miles,
       rate_per_mile,
       posted_at,
       eta,
       score,
       summary_text,
       insights,
       model,
       degraded
FROM loadboard.load_insights
WHERE score IS NOT NULL
ORDER BY score DESC NULLS LAST, rate_per_mile DESC NULLS LAST, posted_at DESC
LIMIT 5;
