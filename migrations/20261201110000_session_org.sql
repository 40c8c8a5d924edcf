-- +goose Up
-- Sessions belong to their user's organization (docs/scaling.md, Tenant
-- routability): every statement of a user scope on sessions is pinned to
-- its tenant, and the tenant-safe foreign key binds a session to a user of
-- the same organization. The token hash stays globally unique: the
-- authenticator finds a session by it alone, before any tenant is known.
-- (by hand) add "org_id" filled from the user, before it is NOT NULL
ALTER TABLE "sessions" ADD COLUMN "org_id" bigint NULL;
UPDATE "sessions" AS s SET "org_id" = u."org_id" FROM "users" AS u WHERE u."id" = s."user_id";
-- modify "sessions" table
ALTER TABLE "sessions" DROP CONSTRAINT "sessions_users_sessions", ALTER COLUMN "org_id" SET NOT NULL, ADD CONSTRAINT "sessions_users_sessions" FOREIGN KEY ("org_id", "user_id") REFERENCES "users" ("org_id", "id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "sessions_organizations_sessions" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- create index "session_org_id_id" to table: "sessions"
CREATE UNIQUE INDEX "session_org_id_id" ON "sessions" ("org_id", "id");

-- +goose Down
-- reverse: create index "session_org_id_id" to table: "sessions"
DROP INDEX "session_org_id_id";
-- reverse: modify "sessions" table
ALTER TABLE "sessions" DROP CONSTRAINT "sessions_organizations_sessions", DROP CONSTRAINT "sessions_users_sessions", DROP COLUMN "org_id", ADD CONSTRAINT "sessions_users_sessions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
