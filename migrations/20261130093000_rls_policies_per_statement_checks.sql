-- +goose Up
-- The same policies, cheaper per row (docs/benchmarks.md, "Row-level
-- security"). Each comparison of a setting with a constant, such as
-- (SELECT scopegate_role()) = 'admin', moves inside its scalar subquery,
-- (SELECT scopegate_role() = 'admin'), so that PostgreSQL evaluates it once
-- per statement (an InitPlan) and each row reads a boolean, where it used
-- to compare text for every row. Generated from the previous migrations'
-- policies by a textual rewrite; the meaning is unchanged (the settings'
-- functions never return NULL for the compared settings), and the shadow
-- runs check it against the model.

DROP POLICY organizations_select ON organizations;
CREATE POLICY organizations_select ON organizations FOR SELECT USING (
    (SELECT scopegate_system() = 'all') OR id = (SELECT scopegate_org()));

DROP POLICY organizations_insert ON organizations;
CREATE POLICY organizations_insert ON organizations FOR INSERT WITH CHECK (
    (SELECT scopegate_system() = 'all'));

DROP POLICY organizations_update ON organizations;
CREATE POLICY organizations_update ON organizations FOR UPDATE USING (
    (SELECT scopegate_system() = 'all') OR id = (SELECT scopegate_org())) WITH CHECK (
    (SELECT scopegate_system() = 'all') OR ((SELECT scopegate_system() = 'org') AND id = (SELECT scopegate_org())));

DROP POLICY organizations_delete ON organizations;
CREATE POLICY organizations_delete ON organizations FOR DELETE USING (
    ((SELECT scopegate_system() = 'all') OR id = (SELECT scopegate_org()))
    AND ((SELECT scopegate_system() = 'all') OR ((SELECT scopegate_system() = 'org') AND id = (SELECT scopegate_org()))));

DROP POLICY companies_select ON companies;
CREATE POLICY companies_select ON companies FOR SELECT USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() IN ('admin', 'manager', 'member'))
      OR ((SELECT scopegate_role() = 'client') AND id = (SELECT scopegate_company())))))));

DROP POLICY companies_insert ON companies;
CREATE POLICY companies_insert ON companies FOR INSERT WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY companies_update ON companies;
CREATE POLICY companies_update ON companies FOR UPDATE USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() IN ('admin', 'manager', 'member'))
      OR ((SELECT scopegate_role() = 'client') AND id = (SELECT scopegate_company()))))))) WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY companies_delete ON companies;
CREATE POLICY companies_delete ON companies FOR DELETE USING (
    ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() IN ('admin', 'manager', 'member'))
      OR ((SELECT scopegate_role() = 'client') AND id = (SELECT scopegate_company())))))))
    AND ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')))))));

DROP POLICY users_select ON users;
CREATE POLICY users_select ON users FOR SELECT USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR id = (SELECT scopegate_user()) OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() IN ('admin', 'manager', 'member'))
      OR ((SELECT scopegate_role() = 'client') AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role() = 'authenticator') AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user()))));

DROP POLICY users_insert ON users;
CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY users_update ON users;
CREATE POLICY users_update ON users FOR UPDATE USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR id = (SELECT scopegate_user()) OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() IN ('admin', 'manager', 'member'))
      OR ((SELECT scopegate_role() = 'client') AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role() = 'authenticator') AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user())))) WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY users_delete ON users;
CREATE POLICY users_delete ON users FOR DELETE USING (
    ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR id = (SELECT scopegate_user()) OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() IN ('admin', 'manager', 'member'))
      OR ((SELECT scopegate_role() = 'client') AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role() = 'authenticator') AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user()))))
    AND ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')))))));

DROP POLICY jobs_select ON jobs;
CREATE POLICY jobs_select ON jobs FOR SELECT USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() = 'admin')
      OR ((SELECT scopegate_role() IN ('manager', 'member')) AND (status = 'published' OR id = ANY ((SELECT scopegate_managed_jobs())::bigint[])))
      OR ((SELECT scopegate_role() = 'client') AND status = 'published' AND company_id = (SELECT scopegate_company()))
      OR ((SELECT scopegate_inserting()) AND created_by_id = (SELECT scopegate_user()))
      OR xmin = (SELECT scopegate_own_xid()))))));

DROP POLICY jobs_insert ON jobs;
CREATE POLICY jobs_insert ON jobs FOR INSERT WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY jobs_update ON jobs;
CREATE POLICY jobs_update ON jobs FOR UPDATE USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() = 'admin')
      OR ((SELECT scopegate_role() IN ('manager', 'member')) AND (status = 'published' OR id = ANY ((SELECT scopegate_managed_jobs())::bigint[])))
      OR ((SELECT scopegate_role() = 'client') AND status = 'published' AND company_id = (SELECT scopegate_company()))
      OR ((SELECT scopegate_inserting()) AND created_by_id = (SELECT scopegate_user()))
      OR xmin = (SELECT scopegate_own_xid())))))) WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY jobs_delete ON jobs;
CREATE POLICY jobs_delete ON jobs FOR DELETE USING (
    ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() = 'admin')
      OR ((SELECT scopegate_role() IN ('manager', 'member')) AND (status = 'published' OR id = ANY ((SELECT scopegate_managed_jobs())::bigint[])))
      OR ((SELECT scopegate_role() = 'client') AND status = 'published' AND company_id = (SELECT scopegate_company()))
      OR ((SELECT scopegate_inserting()) AND created_by_id = (SELECT scopegate_user()))
      OR xmin = (SELECT scopegate_own_xid()))))))
    AND ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')))))));

DROP POLICY notes_select ON notes;
CREATE POLICY notes_select ON notes FOR SELECT USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() = 'admin')
      OR (((SELECT scopegate_role() = 'manager') OR ((SELECT scopegate_role() IN ('member', 'client')) AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id)))))));

DROP POLICY notes_insert ON notes;
CREATE POLICY notes_insert ON notes FOR INSERT WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY notes_update ON notes;
CREATE POLICY notes_update ON notes FOR UPDATE USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() = 'admin')
      OR (((SELECT scopegate_role() = 'manager') OR ((SELECT scopegate_role() IN ('member', 'client')) AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id))))))) WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY notes_delete ON notes;
CREATE POLICY notes_delete ON notes FOR DELETE USING (
    ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (
      (SELECT scopegate_role() = 'admin')
      OR (((SELECT scopegate_role() = 'manager') OR ((SELECT scopegate_role() IN ('member', 'client')) AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id)))))))
    AND ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')))))));

DROP POLICY job_managers_select ON job_managers;
CREATE POLICY job_managers_select ON job_managers FOR SELECT USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY job_managers_insert ON job_managers;
CREATE POLICY job_managers_insert ON job_managers FOR INSERT WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));

DROP POLICY job_managers_update ON job_managers;
CREATE POLICY job_managers_update ON job_managers FOR UPDATE USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id))))) WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));

DROP POLICY job_managers_delete ON job_managers;
CREATE POLICY job_managers_delete ON job_managers FOR DELETE USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client'))
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));

DROP POLICY sessions_select ON sessions;
CREATE POLICY sessions_select ON sessions FOR SELECT USING (
    (SELECT scopegate_system() = 'all')
    OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')) AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_token() <> '') AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned())) OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_email() <> '')))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)));

DROP POLICY sessions_insert ON sessions;
CREATE POLICY sessions_insert ON sessions FOR INSERT WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')) AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_token() <> '') AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned())) OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_email() <> '')))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)));

DROP POLICY sessions_update ON sessions;
CREATE POLICY sessions_update ON sessions FOR UPDATE USING (
    (SELECT scopegate_system() = 'all')
    OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')) AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_token() <> '') AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned())) OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_email() <> '')))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id))) WITH CHECK (
    (SELECT scopegate_system() = 'all')
    OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')) AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_token() <> '') AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned())) OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_email() <> '')))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)));

DROP POLICY sessions_delete ON sessions;
CREATE POLICY sessions_delete ON sessions FOR DELETE USING (
    ((SELECT scopegate_system() = 'all')
    OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')) AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_token() <> '') AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned())) OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_email() <> '')))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)))
    AND ((SELECT scopegate_system() = 'all')
    OR ((SELECT NOT scopegate_banned()) AND (SELECT scopegate_role() IN ('admin', 'manager', 'member', 'client')) AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_token() <> '') AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned())) OR ((SELECT scopegate_role() = 'authenticator') AND (SELECT scopegate_auth_email() <> '')))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id))));

DROP POLICY audit_events_select ON audit_events;
CREATE POLICY audit_events_select ON audit_events FOR SELECT USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned())))));

DROP POLICY audit_events_insert ON audit_events;
CREATE POLICY audit_events_insert ON audit_events FOR INSERT WITH CHECK (
    (SELECT scopegate_system() = 'all') OR ((SELECT scopegate_system() = 'org') AND org_id = (SELECT scopegate_org())));

DROP POLICY audit_events_update ON audit_events;
CREATE POLICY audit_events_update ON audit_events FOR UPDATE USING (
    (SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned()))))) WITH CHECK (
    (SELECT scopegate_system() = 'all') OR ((SELECT scopegate_system() = 'org') AND org_id = (SELECT scopegate_org())));

DROP POLICY audit_events_delete ON audit_events;
CREATE POLICY audit_events_delete ON audit_events FOR DELETE USING (
    ((SELECT scopegate_system() = 'all')
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system() = 'org') OR ((SELECT scopegate_role() = 'admin') AND (SELECT NOT scopegate_banned())))))
    AND ((SELECT scopegate_system() = 'all') OR ((SELECT scopegate_system() = 'org') AND org_id = (SELECT scopegate_org()))));

-- +goose Down
DROP POLICY organizations_select ON organizations;
CREATE POLICY organizations_select ON organizations FOR SELECT USING (
    (SELECT scopegate_system()) = 'all' OR id = (SELECT scopegate_org()));

DROP POLICY organizations_insert ON organizations;
CREATE POLICY organizations_insert ON organizations FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all');

DROP POLICY organizations_update ON organizations;
CREATE POLICY organizations_update ON organizations FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all' OR id = (SELECT scopegate_org())) WITH CHECK (
    (SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND id = (SELECT scopegate_org())));

DROP POLICY organizations_delete ON organizations;
CREATE POLICY organizations_delete ON organizations FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all' OR id = (SELECT scopegate_org()))
    AND ((SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND id = (SELECT scopegate_org()))));

DROP POLICY companies_select ON companies;
CREATE POLICY companies_select ON companies FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = (SELECT scopegate_company())))))));

DROP POLICY companies_insert ON companies;
CREATE POLICY companies_insert ON companies FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));

DROP POLICY companies_update ON companies;
CREATE POLICY companies_update ON companies FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = (SELECT scopegate_company()))))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));

DROP POLICY companies_delete ON companies;
CREATE POLICY companies_delete ON companies FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = (SELECT scopegate_company())))))))
    AND ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY users_select ON users;
CREATE POLICY users_select ON users FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR id = (SELECT scopegate_user()) OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user()))));

DROP POLICY users_insert ON users;
CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));

DROP POLICY users_update ON users;
CREATE POLICY users_update ON users FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR id = (SELECT scopegate_user()) OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user())))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));

DROP POLICY users_delete ON users;
CREATE POLICY users_delete ON users FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR id = (SELECT scopegate_user()) OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) IN ('admin', 'manager', 'member')
      OR ((SELECT scopegate_role()) = 'client' AND id = ANY ((SELECT scopegate_client_managers())::bigint[]))))))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (email = (SELECT scopegate_auth_email()) OR id = (SELECT scopegate_token_user()))))
    AND ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY jobs_select ON jobs;
CREATE POLICY jobs_select ON jobs FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR ((SELECT scopegate_role()) IN ('manager', 'member') AND (status = 'published' OR id = ANY ((SELECT scopegate_managed_jobs())::bigint[])))
      OR ((SELECT scopegate_role()) = 'client' AND status = 'published' AND company_id = (SELECT scopegate_company()))
      OR ((SELECT scopegate_inserting()) AND created_by_id = (SELECT scopegate_user()))
      OR xmin = (SELECT scopegate_own_xid()))))));

DROP POLICY jobs_insert ON jobs;
CREATE POLICY jobs_insert ON jobs FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));

DROP POLICY jobs_update ON jobs;
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

DROP POLICY jobs_delete ON jobs;
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

DROP POLICY notes_select ON notes;
CREATE POLICY notes_select ON notes FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR (((SELECT scopegate_role()) = 'manager' OR ((SELECT scopegate_role()) IN ('member', 'client') AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id)))))));

DROP POLICY notes_insert ON notes;
CREATE POLICY notes_insert ON notes FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));

DROP POLICY notes_update ON notes;
CREATE POLICY notes_update ON notes FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR (((SELECT scopegate_role()) = 'manager' OR ((SELECT scopegate_role()) IN ('member', 'client') AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id))))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));

DROP POLICY notes_delete ON notes;
CREATE POLICY notes_delete ON notes FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (
      (SELECT scopegate_role()) = 'admin'
      OR (((SELECT scopegate_role()) = 'manager' OR ((SELECT scopegate_role()) IN ('member', 'client') AND NOT internal))
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = notes.job_id)))))))
    AND ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client'))))));

DROP POLICY job_managers_select ON job_managers;
CREATE POLICY job_managers_select ON job_managers FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')))));

DROP POLICY job_managers_insert ON job_managers;
CREATE POLICY job_managers_insert ON job_managers FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));

DROP POLICY job_managers_update ON job_managers;
CREATE POLICY job_managers_update ON job_managers FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));

DROP POLICY job_managers_delete ON job_managers;
CREATE POLICY job_managers_delete ON job_managers FOR DELETE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));

DROP POLICY sessions_select ON sessions;
CREATE POLICY sessions_select ON sessions FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client') AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_token()) <> '' AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())) OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_email()) <> ''))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)));

DROP POLICY sessions_insert ON sessions;
CREATE POLICY sessions_insert ON sessions FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client') AND user_id = (SELECT scopegate_user()))
    OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_token()) <> '' AND token_hash = (SELECT scopegate_auth_token()))
    OR (((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())) OR ((SELECT scopegate_role()) = 'authenticator' AND (SELECT scopegate_auth_email()) <> ''))
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id)));

DROP POLICY sessions_update ON sessions;
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

DROP POLICY sessions_delete ON sessions;
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

DROP POLICY audit_events_select ON audit_events;
CREATE POLICY audit_events_select ON audit_events FOR SELECT USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())))));

DROP POLICY audit_events_insert ON audit_events;
CREATE POLICY audit_events_insert ON audit_events FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND org_id = (SELECT scopegate_org())));

DROP POLICY audit_events_update ON audit_events;
CREATE POLICY audit_events_update ON audit_events FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned()))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND org_id = (SELECT scopegate_org())));

DROP POLICY audit_events_delete ON audit_events;
CREATE POLICY audit_events_delete ON audit_events FOR DELETE USING (
    ((SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR ((SELECT scopegate_role()) = 'admin' AND NOT (SELECT scopegate_banned())))))
    AND ((SELECT scopegate_system()) = 'all' OR ((SELECT scopegate_system()) = 'org' AND org_id = (SELECT scopegate_org()))));
