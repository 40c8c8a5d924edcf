-- +goose Up
-- Row-level security (docs/design.md section 8, docs/rls.md): PostgreSQL itself narrows every
-- statement of the application role to what the scope may see, from the
-- transaction-local settings scopegate.* that the database seam
-- (internal/database) sets as the first statement of every transaction.
-- An unset setting reads as NULL or '' and matches no row. Each setting is
-- read once per statement: the policies call the functions below inside a
-- scalar subquery, which PostgreSQL evaluates once (an InitPlan).
--
-- Every table gets four policies: SELECT shows what section 3 lets the
-- scope see; INSERT and UPDATE (WITH CHECK) keep rows in the scope's tenant,
-- for an unbanned user or a system scope; UPDATE reaches the rows SELECT
-- shows (a locking read, SELECT … FOR UPDATE, needs them too, and a banned
-- user's update then fails the check instead of finding no row); DELETE
-- reaches the visible rows it may write. What the policies leave to the ent
-- rules is listed in docs/rls.md.

-- +goose StatementBegin
CREATE FUNCTION scopegate_org() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('scopegate.org_id', true), '')::bigint $$;
CREATE FUNCTION scopegate_user() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('scopegate.user_id', true), '')::bigint $$;
CREATE FUNCTION scopegate_company() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('scopegate.company_id', true), '')::bigint $$;
CREATE FUNCTION scopegate_role() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT COALESCE(current_setting('scopegate.role', true), '') $$;
CREATE FUNCTION scopegate_system() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT COALESCE(current_setting('scopegate.system', true), '') $$;
-- Banned unless the setting is empty: a value the seam never writes fails
-- closed.
CREATE FUNCTION scopegate_banned() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT COALESCE(current_setting('scopegate.banned', true), '') <> '' $$;
CREATE FUNCTION scopegate_auth_email() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT COALESCE(current_setting('scopegate.auth_email', true), '') $$;
CREATE FUNCTION scopegate_auth_token() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT COALESCE(current_setting('scopegate.auth_token', true), '') $$;
-- True while a user's INSERT runs (the seam sets it for that statement).
-- PostgreSQL checks the new row of an INSERT … RETURNING (ent returns every
-- id) against the SELECT policy, and a manager's new draft job is not
-- visible to them until its managers are linked: during an INSERT, the jobs
-- policy shows a user the jobs they created; no other statement sees them.
CREATE FUNCTION scopegate_inserting() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT COALESCE(current_setting('scopegate.inserting', true), '') = 'true' $$;
-- The user of the authenticator's session. A function, not a subquery in
-- the users policy: the sessions policy reads users, and PostgreSQL refuses
-- policies that read each other; a function body is planned on its own,
-- under the same policies, when it runs.
CREATE FUNCTION scopegate_token_user() RETURNS bigint LANGUAGE sql STABLE
  AS $$ SELECT user_id FROM sessions WHERE token_hash = NULLIF(current_setting('scopegate.auth_token', true), '') $$;
-- The jobs the scope's user manages, and the managers of the jobs a client
-- sees: functions rather than subqueries, so that PostgreSQL plans them
-- (with the policies of the tables they read) only when a statement of such
-- a user runs them, once per statement, instead of planning every nested
-- policy into every query (planning a users query took 8 ms that way).
CREATE FUNCTION scopegate_managed_jobs() RETURNS bigint[] LANGUAGE sql STABLE
  AS $$ SELECT array_agg(job_id) FROM job_managers WHERE user_id = NULLIF(current_setting('scopegate.user_id', true), '')::bigint $$;
CREATE FUNCTION scopegate_client_managers() RETURNS bigint[] LANGUAGE sql STABLE
  AS $$ SELECT array_agg(DISTINCT jm.user_id) FROM job_managers jm JOIN jobs j ON j.id = jm.job_id $$;
-- The transaction's own id, once it has written: a job it wrote (xmin) stays
-- visible to it. ent's UpdateOne reads the row back after it changed it, and
-- a manager who hands their draft job to another manager no longer manages
-- it by then; a read-only transaction has no id and sees nothing more.
CREATE FUNCTION scopegate_own_xid() RETURNS xid LANGUAGE sql STABLE
  AS $$ SELECT xid(pg_current_xact_id_if_assigned()) $$;
-- A manager link takes its tenant from the scope's settings when there is
-- one (the composite keys check that the job and the user are of it), and
-- from the job for the all-tenant system scope: a user may link a job they
-- are about to stop seeing (handing their draft job to another manager).
CREATE OR REPLACE FUNCTION "job_managers_org_id"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW."org_id" := scopegate_org();
  IF NEW."org_id" IS NULL THEN
    SELECT j."org_id" INTO NEW."org_id" FROM "jobs" AS j WHERE j."id" = NEW."job_id";
  END IF;
  IF NEW."org_id" IS NULL THEN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "job_managers_job_id"', TG_TABLE_NAME
      USING ERRCODE = 'foreign_key_violation', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
        CONSTRAINT = 'job_managers_job_id', DETAIL = format('Key (job_id)=(%s) is not present in table "jobs".', NEW."job_id");
  END IF;
  RETURN NEW;
END
$fn$;
-- +goose StatementEnd

-- organizations
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY organizations_select ON organizations FOR SELECT USING (
    (SELECT scopegate_system()) = 'all' OR id = (SELECT scopegate_org()));
CREATE POLICY organizations_insert ON organizations FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all');
CREATE POLICY organizations_update ON organizations FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all' OR id = (SELECT scopegate_org())) WITH CHECK (
    (SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND id = (SELECT scopegate_org())));
CREATE POLICY organizations_delete ON organizations FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all' OR id = (SELECT scopegate_org()))
    AND ((SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND id = (SELECT scopegate_org()))));

-- companies
ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE companies FORCE ROW LEVEL SECURITY;
CREATE POLICY companies_select ON companies FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = (SELECT scopegate_company())))))));
CREATE POLICY companies_insert ON companies FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY companies_update ON companies FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = (SELECT scopegate_company()))))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY companies_delete ON companies FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = (SELECT scopegate_company())))))))
    AND ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))));

-- users
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_select ON users FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR id = (SELECT scopegate_user()) OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user()))));
CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY users_update ON users FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR id = (SELECT scopegate_user()) OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user())))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY users_delete ON users FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR id = (SELECT scopegate_user()) OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user()))))
    AND ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))));

-- jobs
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY jobs_select ON jobs FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR ((SELECT scopegate_role()) IN ('manager', 'member') AND (status = 'published' OR id = ANY ((SELECT scopegate_managed_jobs())::bigint[])))
      OR ((SELECT scopegate_role()) = 'client' AND status = 'published' AND company_id = (SELECT scopegate_company()))
      OR ((SELECT scopegate_inserting()) AND created_by_id = (SELECT scopegate_user()))
      OR xmin = (SELECT scopegate_own_xid()))))));
CREATE POLICY jobs_insert ON jobs FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY jobs_update ON jobs FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR ((SELECT scopegate_role()) IN ('manager', 'member') AND (status = 'published' OR id = ANY ((SELECT scopegate_managed_jobs())::bigint[])))
      OR ((SELECT scopegate_role()) = 'client' AND status = 'published' AND company_id = (SELECT scopegate_company()))
      OR ((SELECT scopegate_inserting()) AND created_by_id = (SELECT scopegate_user()))
      OR xmin = (SELECT scopegate_own_xid())))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY jobs_delete ON jobs FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR ((SELECT scopegate_role()) IN ('manager', 'member') AND (status = 'published' OR id = ANY ((SELECT scopegate_managed_jobs())::bigint[])))
      OR ((SELECT scopegate_role()) = 'client' AND status = 'published' AND company_id = (SELECT scopegate_company()))
      OR ((SELECT scopegate_inserting()) AND created_by_id = (SELECT scopegate_user()))
      OR xmin = (SELECT scopegate_own_xid()))))))
    AND ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))));

-- notes
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_select ON notes FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR (((SELECT scopegate_role()) = 'manager' OR ((SELECT scopegate_role()) IN ('member', 'client') AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id)))))));
CREATE POLICY notes_insert ON notes FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY notes_update ON notes FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR (((SELECT scopegate_role()) = 'manager' OR ((SELECT scopegate_role()) IN ('member', 'client') AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id))))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY notes_delete ON notes FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR (((SELECT scopegate_role()) = 'manager' OR ((SELECT scopegate_role()) IN ('member', 'client') AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id)))))))
    AND ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))));

-- job_managers
ALTER TABLE job_managers ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_managers FORCE ROW LEVEL SECURITY;
CREATE POLICY job_managers_select ON job_managers FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY job_managers_insert ON job_managers FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY job_managers_update ON job_managers FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));
CREATE POLICY job_managers_delete ON job_managers FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))))
    AND ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))));

-- sessions
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_select ON sessions FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client') AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_token()) <> '' AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())) OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_email()) <> ''))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)));
CREATE POLICY sessions_insert ON sessions FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client') AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_token()) <> '' AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())) OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_email()) <> ''))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)));
CREATE POLICY sessions_update ON sessions FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client') AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_token()) <> '' AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())) OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_email()) <> ''))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client') AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_token()) <> '' AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())) OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_email()) <> ''))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)));
CREATE POLICY sessions_delete ON sessions FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client') AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_token()) <> '' AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())) OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_email()) <> ''))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)))
    AND ((SELECT scopegate_system()) = 'all'
    OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client') AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_token()) <> '' AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())) OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_email()) <> ''))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id))));

-- audit_events
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_events_select ON audit_events FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())))));
CREATE POLICY audit_events_insert ON audit_events FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND org_id = (SELECT scopegate_org())));
CREATE POLICY audit_events_update ON audit_events FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned()))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND org_id = (SELECT scopegate_org())));
CREATE POLICY audit_events_delete ON audit_events FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())))))
    AND ((SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND org_id = (SELECT scopegate_org()))));

-- +goose Down
DROP POLICY audit_events_select ON audit_events;
DROP POLICY audit_events_insert ON audit_events;
DROP POLICY audit_events_update ON audit_events;
DROP POLICY audit_events_delete ON audit_events;
ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events DISABLE ROW LEVEL SECURITY;
DROP POLICY sessions_select ON sessions;
DROP POLICY sessions_insert ON sessions;
DROP POLICY sessions_update ON sessions;
DROP POLICY sessions_delete ON sessions;
ALTER TABLE sessions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE sessions DISABLE ROW LEVEL SECURITY;
DROP POLICY job_managers_select ON job_managers;
DROP POLICY job_managers_insert ON job_managers;
DROP POLICY job_managers_update ON job_managers;
DROP POLICY job_managers_delete ON job_managers;
ALTER TABLE job_managers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE job_managers DISABLE ROW LEVEL SECURITY;
DROP POLICY notes_select ON notes;
DROP POLICY notes_insert ON notes;
DROP POLICY notes_update ON notes;
DROP POLICY notes_delete ON notes;
ALTER TABLE notes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE notes DISABLE ROW LEVEL SECURITY;
DROP POLICY jobs_select ON jobs;
DROP POLICY jobs_insert ON jobs;
DROP POLICY jobs_update ON jobs;
DROP POLICY jobs_delete ON jobs;
ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE jobs DISABLE ROW LEVEL SECURITY;
DROP POLICY users_select ON users;
DROP POLICY users_insert ON users;
DROP POLICY users_update ON users;
DROP POLICY users_delete ON users;
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
DROP POLICY companies_select ON companies;
DROP POLICY companies_insert ON companies;
DROP POLICY companies_update ON companies;
DROP POLICY companies_delete ON companies;
ALTER TABLE companies NO FORCE ROW LEVEL SECURITY;
ALTER TABLE companies DISABLE ROW LEVEL SECURITY;
DROP POLICY organizations_select ON organizations;
DROP POLICY organizations_insert ON organizations;
DROP POLICY organizations_update ON organizations;
DROP POLICY organizations_delete ON organizations;
ALTER TABLE organizations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE organizations DISABLE ROW LEVEL SECURITY;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION "job_managers_org_id"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  SELECT j."org_id" INTO NEW."org_id" FROM "jobs" AS j WHERE j."id" = NEW."job_id";
  IF NEW."org_id" IS NULL THEN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "job_managers_job_id"', TG_TABLE_NAME
      USING ERRCODE = 'foreign_key_violation', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
        CONSTRAINT = 'job_managers_job_id', DETAIL = format('Key (job_id)=(%s) is not present in table "jobs".', NEW."job_id");
  END IF;
  RETURN NEW;
END
$fn$;
-- +goose StatementEnd
DROP FUNCTION scopegate_own_xid();
DROP FUNCTION scopegate_client_managers();
DROP FUNCTION scopegate_managed_jobs();
DROP FUNCTION scopegate_token_user();
DROP FUNCTION scopegate_inserting();
DROP FUNCTION scopegate_auth_token();
DROP FUNCTION scopegate_auth_email();
DROP FUNCTION scopegate_banned();
DROP FUNCTION scopegate_system();
DROP FUNCTION scopegate_role();
DROP FUNCTION scopegate_company();
DROP FUNCTION scopegate_user();
DROP FUNCTION scopegate_org();
