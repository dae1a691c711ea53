-- First start of the compose PostgreSQL: the two roles of docs/design/tenancy-and-rls.md and the database (scripts/prepare.sh does
-- the same on a plain host). Change the passwords (and DATABASE_URL / DATABASE_OWNER_URL) before real use.
CREATE ROLE wedsync_owner LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS PASSWORD 'change-me-owner';
CREATE ROLE wedsync_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD 'change-me-app';
GRANT pg_read_all_stats TO wedsync_app;
CREATE DATABASE wedsync OWNER wedsync_owner;
\connect wedsync
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
ALTER SCHEMA public OWNER TO wedsync_owner;
