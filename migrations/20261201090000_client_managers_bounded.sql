-- +goose Up
-- scopegate_client_managers(), the users policy's "managers of the jobs a
-- client sees" (evaluated only in its role = 'client' branch), with the
-- conditions of that visibility written out (docs/design.md section 3, rule 6:
-- published jobs of the client's own company, in the client's tenant), and
-- the join on the tenant-safe key (org_id, job_id). Until now the query had
-- no condition of its own and left the narrowing to the jobs policy, whose
-- OR of role branches bounds no index: every client's read of users read
-- jobs and job_managers whole. Now it probes job_company_id, then the
-- primary key of job_managers per job. Still PL/pgSQL (migration
-- rls_plpgsql_lookups: its plan is kept per connection), still the
-- invoker's rights (the policies of both tables still apply), and the
-- policies that call it are unchanged. An unset setting matches nothing.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION scopegate_client_managers() RETURNS bigint[] LANGUAGE plpgsql STABLE
  AS $$ BEGIN RETURN (SELECT array_agg(DISTINCT jm.user_id) FROM jobs j JOIN job_managers jm ON jm.org_id = j.org_id AND jm.job_id = j.id WHERE j.org_id = NULLIF(current_setting('scopegate.org_id', true), '')::bigint AND j.company_id = NULLIF(current_setting('scopegate.company_id', true), '')::bigint AND j.status = 'published'); END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION scopegate_client_managers() RETURNS bigint[] LANGUAGE plpgsql STABLE
  AS $$ BEGIN RETURN (SELECT array_agg(DISTINCT jm.user_id) FROM job_managers jm JOIN jobs j ON j.id = jm.job_id); END $$;
-- +goose StatementEnd
