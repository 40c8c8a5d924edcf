-- +goose Up
-- A manager link is a row of the job it links (docs/design.md section 8: the job
-- visibility of section 3 in USING and WITH CHECK). The links stay readable
-- to the whole tenant (the jobs policy reads them, through
-- scopegate_managed_jobs(), to show managers the jobs they manage), but a
-- user may now write only the links of jobs they see. Before, a user's raw
-- INSERT INTO job_managers could link them to a hidden draft job of their
-- tenant, which then became visible to them, and a DELETE could unlink the
-- managers of a job they do not see (integration
-- TestRLSRawLinksFollowJobVisibility; found by the mutation oracle's shadow
-- run with row-level security alone). The jobs policy still shows a job the
-- transaction wrote (xmin) or, during an INSERT, created: a manager handing
-- their draft job to another, or creating a job with its managers, still
-- links it. Foreign-key cascades (deleting a job or a user) run past
-- row-level security, as before.
DROP POLICY job_managers_insert ON job_managers;
DROP POLICY job_managers_update ON job_managers;
DROP POLICY job_managers_delete ON job_managers;
CREATE POLICY job_managers_insert ON job_managers FOR INSERT WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));
CREATE POLICY job_managers_update ON job_managers FOR UPDATE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id))))) WITH CHECK (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));
CREATE POLICY job_managers_delete ON job_managers FOR DELETE USING (
    (SELECT scopegate_system()) = 'all'
    OR (org_id = (SELECT scopegate_org()) AND ((SELECT scopegate_system()) = 'org' OR (NOT (SELECT scopegate_banned()) AND (SELECT scopegate_role()) IN ('admin', 'manager', 'member', 'client')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_managers.job_id)))));

-- +goose Down
DROP POLICY job_managers_insert ON job_managers;
DROP POLICY job_managers_update ON job_managers;
DROP POLICY job_managers_delete ON job_managers;
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
