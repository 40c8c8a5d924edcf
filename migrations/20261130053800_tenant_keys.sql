-- +goose Up
-- Tenant-safe keys (docs/design.md section 8): every foreign key between tenant
-- tables includes org_id. Written by `scopegate migrate diff tenant_keys`,
-- then edited by hand where marked "(by hand)"; atlas.sum rewritten with
-- `scopegate migrate hash`.
--
-- (by hand) Refuse, with the list, rows that already link two tenants: the
-- keys below cannot be added over them. docs/database.md says how to find
-- and fix them.
-- +goose StatementBegin
DO $$
DECLARE
  bad text;
BEGIN
  SELECT string_agg(format('%s: %s', link, n), ', ') INTO bad FROM (
    SELECT 'users.company_id' AS link, count(*) AS n FROM users x JOIN companies r ON r.id = x.company_id WHERE r.org_id <> x.org_id
    UNION ALL SELECT 'jobs.company_id', count(*) FROM jobs x JOIN companies r ON r.id = x.company_id WHERE r.org_id <> x.org_id
    UNION ALL SELECT 'jobs.created_by_id', count(*) FROM jobs x JOIN users r ON r.id = x.created_by_id WHERE r.org_id <> x.org_id
    UNION ALL SELECT 'notes.job_id', count(*) FROM notes x JOIN jobs r ON r.id = x.job_id WHERE r.org_id <> x.org_id
    UNION ALL SELECT 'notes.author_id', count(*) FROM notes x JOIN users r ON r.id = x.author_id WHERE r.org_id <> x.org_id
    UNION ALL SELECT 'job_managers', count(*) FROM job_managers x JOIN jobs j ON j.id = x.job_id JOIN users u ON u.id = x.user_id WHERE j.org_id <> u.org_id
  ) links WHERE n > 0;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'tenant_keys: rows link two tenants (%); the tenant-safe foreign keys cannot be added', bad
      USING HINT = 'docs/database.md, "Rows that link two tenants", lists them; fix or delete them, then migrate again.';
  END IF;
END $$;
-- +goose StatementEnd
-- drop index "company_org_id_id" from table: "companies"
DROP INDEX "company_org_id_id";
-- create index "company_org_id_id" to table: "companies"
CREATE UNIQUE INDEX "company_org_id_id" ON "companies" ("org_id", "id");
-- drop index "user_org_id_id" from table: "users"
DROP INDEX "user_org_id_id";
-- modify "users" table
ALTER TABLE "users" DROP CONSTRAINT "users_companies_clients", ADD CONSTRAINT "users_companies_clients" FOREIGN KEY ("org_id", "company_id") REFERENCES "companies" ("org_id", "id") ON UPDATE NO ACTION ON DELETE SET NULL ("company_id");
-- create index "user_org_id_id" to table: "users"
CREATE UNIQUE INDEX "user_org_id_id" ON "users" ("org_id", "id");
-- drop index "job_org_id_id" from table: "jobs"
DROP INDEX "job_org_id_id";
-- modify "jobs" table
ALTER TABLE "jobs" DROP CONSTRAINT "jobs_companies_jobs", DROP CONSTRAINT "jobs_users_created_jobs", ADD CONSTRAINT "jobs_companies_jobs" FOREIGN KEY ("org_id", "company_id") REFERENCES "companies" ("org_id", "id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "jobs_users_created_jobs" FOREIGN KEY ("org_id", "created_by_id") REFERENCES "users" ("org_id", "id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- create index "job_org_id_id" to table: "jobs"
CREATE UNIQUE INDEX "job_org_id_id" ON "jobs" ("org_id", "id");
-- (by hand) add "org_id" to "job_managers", filled from the job, before it is NOT NULL
ALTER TABLE "job_managers" ADD COLUMN "org_id" bigint NULL;
UPDATE "job_managers" AS x SET "org_id" = j."org_id" FROM "jobs" AS j WHERE j."id" = x."job_id";
-- modify "job_managers" table
ALTER TABLE "job_managers" DROP CONSTRAINT "job_managers_job_id", DROP CONSTRAINT "job_managers_user_id", ALTER COLUMN "org_id" SET NOT NULL, ADD CONSTRAINT "job_managers_job_id" FOREIGN KEY ("org_id", "job_id") REFERENCES "jobs" ("org_id", "id") ON UPDATE NO ACTION ON DELETE CASCADE, ADD CONSTRAINT "job_managers_user_id" FOREIGN KEY ("org_id", "user_id") REFERENCES "users" ("org_id", "id") ON UPDATE NO ACTION ON DELETE CASCADE;
-- drop index "note_org_id_id" from table: "notes"
DROP INDEX "note_org_id_id";
-- modify "notes" table
ALTER TABLE "notes" DROP CONSTRAINT "notes_jobs_notes", DROP CONSTRAINT "notes_users_notes", ADD CONSTRAINT "notes_jobs_notes" FOREIGN KEY ("org_id", "job_id") REFERENCES "jobs" ("org_id", "id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "notes_users_notes" FOREIGN KEY ("org_id", "author_id") REFERENCES "users" ("org_id", "id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- create index "note_org_id_id" to table: "notes"
CREATE UNIQUE INDEX "note_org_id_id" ON "notes" ("org_id", "id");
-- (by hand) ent inserts a link as (job_id, user_id): this fills org_id
-- from the job. Invoker's rights, not SECURITY DEFINER: under row-level
-- security a job the caller cannot see is no job, and the link is refused
-- as for a missing one. An org_id given by the caller is kept, and the
-- composite keys check it.
-- +goose StatementBegin
CREATE FUNCTION "job_managers_org_id"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT j."org_id" INTO NEW."org_id" FROM "jobs" AS j WHERE j."id" = NEW."job_id";
  IF NEW."org_id" IS NULL THEN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "job_managers_job_id"', TG_TABLE_NAME
      USING ERRCODE = 'foreign_key_violation', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
        CONSTRAINT = 'job_managers_job_id', DETAIL = format('Key (job_id)=(%s) is not present in table "jobs".', NEW."job_id");
  END IF;
  RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER "job_managers_org_id" BEFORE INSERT ON "job_managers"
  FOR EACH ROW WHEN (NEW."org_id" IS NULL AND NEW."job_id" IS NOT NULL) EXECUTE FUNCTION "job_managers_org_id"();

-- +goose Down
-- (by hand) reverse: the trigger that fills "job_managers"."org_id"
DROP TRIGGER "job_managers_org_id" ON "job_managers";
DROP FUNCTION "job_managers_org_id"();
-- reverse: create index "note_org_id_id" to table: "notes"
DROP INDEX "note_org_id_id";
-- reverse: modify "notes" table
ALTER TABLE "notes" DROP CONSTRAINT "notes_users_notes", DROP CONSTRAINT "notes_jobs_notes", ADD CONSTRAINT "notes_users_notes" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "notes_jobs_notes" FOREIGN KEY ("job_id") REFERENCES "jobs" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- reverse: drop index "note_org_id_id" from table: "notes"
CREATE INDEX "note_org_id_id" ON "notes" ("org_id", "id");
-- reverse: modify "job_managers" table
ALTER TABLE "job_managers" DROP CONSTRAINT "job_managers_user_id", DROP CONSTRAINT "job_managers_job_id", DROP COLUMN "org_id", ADD CONSTRAINT "job_managers_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, ADD CONSTRAINT "job_managers_job_id" FOREIGN KEY ("job_id") REFERENCES "jobs" ("id") ON UPDATE NO ACTION ON DELETE CASCADE;
-- reverse: create index "job_org_id_id" to table: "jobs"
DROP INDEX "job_org_id_id";
-- reverse: modify "jobs" table
ALTER TABLE "jobs" DROP CONSTRAINT "jobs_users_created_jobs", DROP CONSTRAINT "jobs_companies_jobs", ADD CONSTRAINT "jobs_users_created_jobs" FOREIGN KEY ("created_by_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "jobs_companies_jobs" FOREIGN KEY ("company_id") REFERENCES "companies" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- reverse: drop index "job_org_id_id" from table: "jobs"
CREATE INDEX "job_org_id_id" ON "jobs" ("org_id", "id");
-- reverse: create index "user_org_id_id" to table: "users"
DROP INDEX "user_org_id_id";
-- reverse: modify "users" table
ALTER TABLE "users" DROP CONSTRAINT "users_companies_clients", ADD CONSTRAINT "users_companies_clients" FOREIGN KEY ("company_id") REFERENCES "companies" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- reverse: drop index "user_org_id_id" from table: "users"
CREATE INDEX "user_org_id_id" ON "users" ("org_id", "id");
-- reverse: create index "company_org_id_id" to table: "companies"
DROP INDEX "company_org_id_id";
-- reverse: drop index "company_org_id_id" from table: "companies"
CREATE INDEX "company_org_id_id" ON "companies" ("org_id", "id");
