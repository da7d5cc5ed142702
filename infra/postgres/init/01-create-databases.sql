-- Runs once, on the first start of an empty postgres-data volume (docker-entrypoint-initdb.d),
-- as POSTGRES_USER, who therefore owns all three. One database per service: each service owns
-- its schema and migrations, and none can join another's tables.
CREATE DATABASE memshop_catalog;
CREATE DATABASE memshop_user;
CREATE DATABASE memshop_order;
