CREATE SCHEMA audit;

CREATE SCHEMA bakery;

CREATE SCHEMA fleet;

CREATE SCHEMA loadboard;

CREATE TABLE audit.audit_events (
    event_id text NOT NULL,
    type text NOT NULL,
    driver_id text NOT NULL,
    load_id text NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    notified_at timestamp with time zone,
    document jsonb NOT NULL
);

CREATE TABLE bakery.cake_ingredients (
    cake_id text NOT NULL,
    "position" integer NOT NULL,
    name text NOT NULL,
    amount numeric(12,3) NOT NULL,
    unit text NOT NULL,
    CONSTRAINT cake_ingredients_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT cake_ingredients_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT cake_ingredients_unit_check CHECK ((unit = ANY (ARRAY['g'::text, 'unit'::text]))),
    CONSTRAINT cake_ingredients_whole_units CHECK (((unit = 'g'::text) OR (amount = trunc(amount))))
);

CREATE TABLE bakery.cakes (
    id text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT cakes_id_check CHECK ((id ~ '^[a-z0-9]+(_[a-z0-9]+)*$'::text)),
    CONSTRAINT cakes_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);

CREATE TABLE bakery.drive_documents (
    customer_slug text NOT NULL,
    file_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE bakery.employees (
    id bigint NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    github_username text,
    developer boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT employees_developer_needs_github CHECK (((NOT developer) OR (github_username IS NOT NULL))),
    CONSTRAINT employees_first_name_check CHECK (((length(first_name) >= 1) AND (length(first_name) <= 100))),
    CONSTRAINT employees_last_name_check CHECK (((length(last_name) >= 1) AND (length(last_name) <= 100)))
);

ALTER TABLE bakery.employees ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME bakery.employees_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE bakery.ingredient_batches (
    id bigint NOT NULL,
    kind text NOT NULL,
    trigger text NOT NULL,
    ingredients jsonb NOT NULL,
    ticket_key text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ingredient_batches_kind_check CHECK ((kind = ANY (ARRAY['order'::text, 'daily'::text]))),
    CONSTRAINT ingredient_batches_trigger_check CHECK ((trigger = ANY (ARRAY['order'::text, 'api'::text, 'schedule'::text])))
);

ALTER TABLE bakery.ingredient_batches ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME bakery.ingredient_batches_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE bakery.job_outbox (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    seq bigint NOT NULL,
    type text NOT NULL,
    payload jsonb NOT NULL,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    done_at timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    state text DEFAULT 'pending'::text NOT NULL,
    channel text DEFAULT 'default'::text NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_token bigint DEFAULT 0 NOT NULL,
    leased_until timestamp with time zone,
    started_at timestamp with time zone,
    result jsonb,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    started_token bigint,
    ended_at timestamp with time zone,
    CONSTRAINT job_outbox_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'held'::text, 'done'::text, 'dead'::text])))
);

ALTER TABLE bakery.job_outbox ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME bakery.job_outbox_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE bakery.orders (
    id bigint NOT NULL,
    customer text NOT NULL,
    recipe text NOT NULL,
    recipe_name text NOT NULL,
    persons integer NOT NULL,
    quantity integer NOT NULL,
    extra_ingredients jsonb DEFAULT '[]'::jsonb NOT NULL,
    required_ingredients jsonb NOT NULL,
    state text DEFAULT 'placed'::text NOT NULL,
    batch_id bigint,
    ticket_key text,
    ready_at timestamp with time zone,
    ready_channel text,
    ready_recipient text,
    ready_notified_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT orders_cancelled_check CHECK (((state = 'cancelled'::text) = (cancelled_at IS NOT NULL))),
    CONSTRAINT orders_customer_check CHECK (((length(customer) >= 1) AND (length(customer) <= 200))),
    CONSTRAINT orders_persons_check CHECK ((persons > 0)),
    CONSTRAINT orders_quantity_check CHECK ((quantity > 0)),
    CONSTRAINT orders_ready_channel_check CHECK ((ready_channel = ANY (ARRAY['slack'::text, 'email'::text]))),
    CONSTRAINT orders_state_check CHECK ((state = ANY (ARRAY['placed'::text, 'ready'::text, 'cancelled'::text])))
);

ALTER TABLE bakery.orders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME bakery.orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE bakery.schedule_runs (
    day date NOT NULL,
    batch_id bigint,
    ran_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE fleet.driver_load_assignments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    driver_id uuid NOT NULL,
    load_id uuid NOT NULL,
    status text DEFAULT 'ASSIGNED'::text NOT NULL,
    assigned_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    CONSTRAINT assignments_final_time_check CHECK ((((status = 'ASSIGNED'::text) AND (completed_at IS NULL) AND (cancelled_at IS NULL)) OR ((status = 'COMPLETED'::text) AND (completed_at IS NOT NULL) AND (cancelled_at IS NULL)) OR ((status = 'CANCELLED'::text) AND (cancelled_at IS NOT NULL) AND (completed_at IS NULL)))),
    CONSTRAINT assignments_status_check CHECK ((status = ANY (ARRAY['ASSIGNED'::text, 'COMPLETED'::text, 'CANCELLED'::text])))
);

CREATE TABLE fleet.drivers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    license_number text NOT NULL,
    status text DEFAULT 'AVAILABLE'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT drivers_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT drivers_status_check CHECK ((status = ANY (ARRAY['AVAILABLE'::text, 'ON_LOAD'::text, 'INACTIVE'::text])))
);

CREATE TABLE fleet.job_outbox (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    seq bigint NOT NULL,
    type text NOT NULL,
    payload jsonb NOT NULL,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    done_at timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    state text DEFAULT 'pending'::text NOT NULL,
    channel text DEFAULT 'default'::text NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_token bigint DEFAULT 0 NOT NULL,
    leased_until timestamp with time zone,
    started_at timestamp with time zone,
    result jsonb,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    started_token bigint,
    ended_at timestamp with time zone,
    CONSTRAINT job_outbox_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'held'::text, 'done'::text, 'dead'::text])))
);

ALTER TABLE fleet.job_outbox ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME fleet.job_outbox_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE fleet.load_events (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    load_id uuid NOT NULL,
    type text NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE fleet.loads (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    origin text NOT NULL,
    destination text NOT NULL,
    cargo_type text NOT NULL,
    status text DEFAULT 'OPEN'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT loads_cargo_type_check CHECK (((length(cargo_type) >= 1) AND (length(cargo_type) <= 100))),
    CONSTRAINT loads_destination_check CHECK (((length(destination) >= 1) AND (length(destination) <= 200))),
    CONSTRAINT loads_origin_check CHECK (((length(origin) >= 1) AND (length(origin) <= 200))),
    CONSTRAINT loads_status_check CHECK ((status = ANY (ARRAY['OPEN'::text, 'ASSIGNED'::text, 'COMPLETED'::text, 'CANCELLED'::text])))
);

CREATE TABLE fleet.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    password_hash text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    role text DEFAULT 'user'::text NOT NULL,
    token_version bigint DEFAULT 0 NOT NULL,
    CONSTRAINT users_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'user'::text]))),
    CONSTRAINT users_token_version_check CHECK ((token_version >= 0))
);

CREATE TABLE loadboard.extraction_runs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    status text DEFAULT 'running'::text NOT NULL,
    trigger text DEFAULT 'api'::text NOT NULL,
    requested_by text,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    portals jsonb DEFAULT '{}'::jsonb NOT NULL,
    loads_count integer DEFAULT 0 NOT NULL,
    summaries_count integer DEFAULT 0 NOT NULL,
    summary jsonb,
    errors jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT extraction_runs_finished_check CHECK (((status = 'running'::text) = (finished_at IS NULL))),
    CONSTRAINT extraction_runs_status_check CHECK ((status = ANY (ARRAY['running'::text, 'succeeded'::text, 'partial'::text, 'failed'::text]))),
    CONSTRAINT extraction_runs_trigger_check CHECK ((trigger = ANY (ARRAY['api'::text, 'schedule'::text])))
);

CREATE TABLE loadboard.loads (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    portal text NOT NULL,
    portal_load_id text NOT NULL,
    origin_city text NOT NULL,
    origin_state character(2) NOT NULL,
    destination_city text NOT NULL,
    destination_state character(2) NOT NULL,
    price numeric(12,2),
    currency character(3),
    price_text text DEFAULT ''::text NOT NULL,
    posted_at timestamp with time zone NOT NULL,
    pickup_at timestamp with time zone,
    eta timestamp with time zone,
    equipment text,
    weight_lbs integer,
    miles integer,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_run_id uuid,
    CONSTRAINT loads_currency_check CHECK (((price IS NULL) = (currency IS NULL))),
    CONSTRAINT loads_miles_check CHECK (((miles IS NULL) OR (miles > 0))),
    CONSTRAINT loads_price_check CHECK (((price IS NULL) OR (price > (0)::numeric)))
);

CREATE TABLE loadboard.summaries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    load_id uuid,
    run_id uuid,
    summary_text text NOT NULL,
    insights jsonb DEFAULT '[]'::jsonb NOT NULL,
    score numeric(4,3),
    model text NOT NULL,
    degraded boolean DEFAULT false NOT NULL,
    degraded_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT summaries_score_check CHECK (((score IS NULL) OR ((score >= (0)::numeric) AND (score <= (1)::numeric))))
);

CREATE MATERIALIZED VIEW loadboard.load_insights AS
 SELECT l.id AS load_id,
    l.portal,
    l.portal_load_id,
    l.origin_city,
    l.origin_state,
    l.destination_city,
    l.destination_state,
    l.price,
    l.currency,
    l.miles,
    l.posted_at,
    l.pickup_at,
    l.eta,
    l.equipment,
    l.weight_lbs,
        CASE
            WHEN ((l.price IS NOT NULL) AND (l.miles > 0)) THEN round((l.price / (l.miles)::numeric), 2)
            ELSE NULL::numeric
        END AS rate_per_mile,
    s.id AS summary_id,
    s.summary_text,
    s.insights,
    s.score,
    s.model,
    s.degraded,
    s.run_id,
    s.created_at AS summarized_at
   FROM (loadboard.loads l
     LEFT JOIN LATERAL ( SELECT s_1.id,
            s_1.load_id,
            s_1.run_id,
            s_1.summary_text,
            s_1.insights,
            s_1.score,
            s_1.model,
            s_1.degraded,
            s_1.degraded_reason,
            s_1.created_at
           FROM loadboard.summaries s_1
          WHERE (s_1.load_id = l.id)
          ORDER BY s_1.created_at DESC, s_1.id DESC
         LIMIT 1) s ON (true))
  WITH NO DATA;

ALTER TABLE ONLY audit.audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (event_id);

ALTER TABLE ONLY bakery.cake_ingredients
    ADD CONSTRAINT cake_ingredients_pkey PRIMARY KEY (cake_id, name);

ALTER TABLE ONLY bakery.cakes
    ADD CONSTRAINT cakes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY bakery.drive_documents
    ADD CONSTRAINT drive_documents_pkey PRIMARY KEY (customer_slug);

ALTER TABLE ONLY bakery.employees
    ADD CONSTRAINT employees_pkey PRIMARY KEY (id);

ALTER TABLE ONLY bakery.ingredient_batches
    ADD CONSTRAINT ingredient_batches_pkey PRIMARY KEY (id);

ALTER TABLE ONLY bakery.job_outbox
    ADD CONSTRAINT job_outbox_pkey PRIMARY KEY (id);

ALTER TABLE ONLY bakery.job_outbox
    ADD CONSTRAINT job_outbox_seq_key UNIQUE (seq);

ALTER TABLE ONLY bakery.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);

ALTER TABLE ONLY bakery.schedule_runs
    ADD CONSTRAINT schedule_runs_pkey PRIMARY KEY (day);

ALTER TABLE ONLY fleet.driver_load_assignments
    ADD CONSTRAINT driver_load_assignments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY fleet.drivers
    ADD CONSTRAINT drivers_license_number_key UNIQUE (license_number);

ALTER TABLE ONLY fleet.drivers
    ADD CONSTRAINT drivers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY fleet.job_outbox
    ADD CONSTRAINT job_outbox_pkey PRIMARY KEY (id);

ALTER TABLE ONLY fleet.job_outbox
    ADD CONSTRAINT job_outbox_seq_key UNIQUE (seq);

ALTER TABLE ONLY fleet.load_events
    ADD CONSTRAINT load_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY fleet.loads
    ADD CONSTRAINT loads_pkey PRIMARY KEY (id);

ALTER TABLE ONLY fleet.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY loadboard.extraction_runs
    ADD CONSTRAINT extraction_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY loadboard.loads
    ADD CONSTRAINT loads_pkey PRIMARY KEY (id);

ALTER TABLE ONLY loadboard.loads
    ADD CONSTRAINT loads_portal_load_key UNIQUE (portal, portal_load_id);

ALTER TABLE ONLY loadboard.summaries
    ADD CONSTRAINT summaries_pkey PRIMARY KEY (id);

CREATE INDEX audit_events_driver_trail ON audit.audit_events USING btree (driver_id, occurred_at, recorded_at);

CREATE INDEX audit_events_load_trail ON audit.audit_events USING btree (load_id, occurred_at, recorded_at);

CREATE INDEX audit_events_trail ON audit.audit_events USING btree (occurred_at, recorded_at);

CREATE INDEX ix_job_outbox_done_at ON bakery.job_outbox USING btree (done_at) WHERE (state = 'done'::text);

CREATE INDEX ix_job_outbox_due ON bakery.job_outbox USING btree (channel, seq) WHERE (state = 'pending'::text);

CREATE INDEX ix_job_outbox_parked ON bakery.job_outbox USING btree (channel, state, updated_at) WHERE (state = ANY (ARRAY['held'::text, 'dead'::text]));

CREATE INDEX orders_batch_id_idx ON bakery.orders USING btree (batch_id);

CREATE INDEX orders_recipe_open_idx ON bakery.orders USING btree (recipe) WHERE (state = 'placed'::text);

CREATE INDEX orders_ticket_key_idx ON bakery.orders USING btree (ticket_key);

CREATE INDEX orders_unbatched_idx ON bakery.orders USING btree (id) WHERE ((batch_id IS NULL) AND (state <> 'cancelled'::text));

CREATE INDEX assignments_driver_idx ON fleet.driver_load_assignments USING btree (driver_id, assigned_at DESC);

CREATE INDEX assignments_load_idx ON fleet.driver_load_assignments USING btree (load_id, assigned_at DESC);

CREATE UNIQUE INDEX assignments_one_active_per_driver ON fleet.driver_load_assignments USING btree (driver_id) WHERE (status = 'ASSIGNED'::text);

CREATE UNIQUE INDEX assignments_one_active_per_load ON fleet.driver_load_assignments USING btree (load_id) WHERE (status = 'ASSIGNED'::text);

CREATE INDEX drivers_created_at_idx ON fleet.drivers USING btree (created_at DESC, id);

CREATE INDEX ix_job_outbox_done_at ON fleet.job_outbox USING btree (done_at) WHERE (state = 'done'::text);

CREATE INDEX ix_job_outbox_due ON fleet.job_outbox USING btree (channel, seq) WHERE (state = 'pending'::text);

CREATE INDEX ix_job_outbox_parked ON fleet.job_outbox USING btree (channel, state, updated_at) WHERE (state = ANY (ARRAY['held'::text, 'dead'::text]));

CREATE INDEX load_events_load_idx ON fleet.load_events USING btree (load_id, created_at);

CREATE INDEX loads_created_at_idx ON fleet.loads USING btree (created_at DESC, id DESC);

CREATE INDEX loads_status_created_at_idx ON fleet.loads USING btree (status, created_at DESC, id DESC);

CREATE UNIQUE INDEX users_email_key ON fleet.users USING btree (lower(email));

CREATE UNIQUE INDEX extraction_runs_one_running ON loadboard.extraction_runs USING btree ((true)) WHERE (status = 'running'::text);

CREATE INDEX extraction_runs_started_at_idx ON loadboard.extraction_runs USING btree (started_at DESC, id);

CREATE UNIQUE INDEX load_insights_load_id_key ON loadboard.load_insights USING btree (load_id);

CREATE INDEX load_insights_rank_idx ON loadboard.load_insights USING btree (score DESC NULLS LAST, rate_per_mile DESC NULLS LAST, posted_at DESC);

CREATE INDEX loads_lane_idx ON loadboard.loads USING btree (origin_state, destination_state);

CREATE INDEX loads_last_run_id_idx ON loadboard.loads USING btree (last_run_id);

CREATE INDEX loads_portal_posted_at_idx ON loadboard.loads USING btree (portal, posted_at DESC);

CREATE INDEX loads_posted_at_idx ON loadboard.loads USING btree (posted_at DESC, id);

CREATE INDEX summaries_load_latest_idx ON loadboard.summaries USING btree (load_id, created_at DESC, id DESC);

CREATE INDEX summaries_run_id_idx ON loadboard.summaries USING btree (run_id);

ALTER TABLE ONLY bakery.cake_ingredients
    ADD CONSTRAINT cake_ingredients_cake_id_fkey FOREIGN KEY (cake_id) REFERENCES bakery.cakes(id) ON DELETE CASCADE;

ALTER TABLE ONLY bakery.orders
    ADD CONSTRAINT orders_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES bakery.ingredient_batches(id);

ALTER TABLE ONLY bakery.schedule_runs
    ADD CONSTRAINT schedule_runs_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES bakery.ingredient_batches(id);

ALTER TABLE ONLY fleet.driver_load_assignments
    ADD CONSTRAINT driver_load_assignments_driver_id_fkey FOREIGN KEY (driver_id) REFERENCES fleet.drivers(id);

ALTER TABLE ONLY fleet.driver_load_assignments
    ADD CONSTRAINT driver_load_assignments_load_id_fkey FOREIGN KEY (load_id) REFERENCES fleet.loads(id);

ALTER TABLE ONLY fleet.load_events
    ADD CONSTRAINT load_events_load_id_fkey FOREIGN KEY (load_id) REFERENCES fleet.loads(id);

ALTER TABLE ONLY loadboard.loads
    ADD CONSTRAINT loads_last_run_id_fkey FOREIGN KEY (last_run_id) REFERENCES loadboard.extraction_runs(id) ON DELETE SET NULL;

ALTER TABLE ONLY loadboard.summaries
    ADD CONSTRAINT summaries_load_id_fkey FOREIGN KEY (load_id) REFERENCES loadboard.loads(id) ON DELETE CASCADE;

ALTER TABLE ONLY loadboard.summaries
    ADD CONSTRAINT summaries_run_id_fkey FOREIGN KEY (run_id) REFERENCES loadboard.extraction_runs(id) ON DELETE SET NULL;
