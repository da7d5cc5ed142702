-- One service's database and its two roles (psql script; run as a superuser or a role with
-- CREATEROLE and CREATEDB). Variables: database, owner, runtime (names, given with psql -v);
-- the passwords come from the environment (OWNER_PASSWORD, RUNTIME_PASSWORD) so they never show
-- in a process list. infra/postgres/init/10-service-roles.sh runs it per service in compose;
-- docs/security.md shows the same for a managed Postgres in Kubernetes.
--
--   owner    owns the database and its public schema; the migrate job connects as it (DDL).
--   runtime  what the service connects as: SELECT/INSERT/UPDATE/DELETE on the owner's tables,
--            USAGE/SELECT on its sequences, nothing else (no CREATE, DROP, ALTER, TRUNCATE).
\set ON_ERROR_STOP on
\getenv owner_password OWNER_PASSWORD
\getenv runtime_password RUNTIME_PASSWORD

CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'owner_password';
CREATE ROLE :"runtime" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'runtime_password';
CREATE DATABASE :"database" OWNER :"owner";

-- PUBLIC may connect to a new database by default: every other role on the server, including
-- the other services' roles, would see this one's catalog. Only its two roles connect.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"runtime";

\connect :"database"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"runtime";
-- Tables and sequences the owner creates later (every migration) are granted as they appear,
-- so a new migration needs no grant of its own. UPDATE on sequences (setval) stays with the owner.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"runtime";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"runtime";
