-- +goose Up
-- The policies' lookup functions in PL/pgSQL (docs/benchmarks.md, "Row-level
-- security"): PostgreSQL plans the body of a SQL function that it cannot
-- inline again in every statement that calls it, while PL/pgSQL keeps the
-- plan of each query for the connection. The authenticator's session lookup
-- cost 1.3–1.5 ms of execution on every request as a SQL function. Same
-- signatures, same results, same invoker's rights: the queries still run
-- under the policies of the tables they read.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION scopegate_token_user() RETURNS bigint LANGUAGE plpgsql STABLE
  AS $$ BEGIN RETURN (SELECT user_id FROM sessions WHERE token_hash = NULLIF(current_setting('scopegate.auth_token', true), '')); END $$;
CREATE OR REPLACE FUNCTION scopegate_managed_jobs() RETURNS bigint[] LANGUAGE plpgsql STABLE
  AS $$ BEGIN RETURN (SELECT array_agg(job_id) FROM job_managers WHERE user_id = NULLIF(current_setting('scopegate.user_id', true), '')::bigint); END $$;
CREATE OR REPLACE FUNCTION scopegate_client_managers() RETURNS bigint[] LANGUAGE plpgsql STABLE
  AS $$ BEGIN RETURN (SELECT array_agg(DISTINCT jm.user_id) FROM job_managers jm JOIN jobs j ON j.id = jm.job_id); END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION scopegate_token_user() RETURNS bigint LANGUAGE sql STABLE
  AS $$ SELECT user_id FROM sessions WHERE token_hash = NULLIF(current_setting('scopegate.auth_token', true), '') $$;
CREATE OR REPLACE FUNCTION scopegate_managed_jobs() RETURNS bigint[] LANGUAGE sql STABLE
  AS $$ SELECT array_agg(job_id) FROM job_managers WHERE user_id = NULLIF(current_setting('scopegate.user_id', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION scopegate_client_managers() RETURNS bigint[] LANGUAGE sql STABLE
  AS $$ SELECT array_agg(DISTINCT jm.user_id) FROM job_managers jm JOIN jobs j ON j.id = jm.job_id $$;
-- +goose StatementEnd
