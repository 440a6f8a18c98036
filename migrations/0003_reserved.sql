-- Placeholder: number 3 belongs to the job-dependencies migration of
-- another branch (0003_job_dependencies.sql). Delete this file when both
-- are merged; 0004 does not depend on what 0003 does.
SELECT 1;
