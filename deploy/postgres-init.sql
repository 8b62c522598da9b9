-- Run once by the postgres image, on its first start with an empty data volume
-- (/docker-entrypoint-initdb.d). One database per service: every service has its own tables,
-- and the kernel's tables (bus_outbox, bus_inbox, access_revocations) carry the same names
-- in each, so the services cannot share one database.
CREATE DATABASE registry;
CREATE DATABASE events;
CREATE DATABASE media;
CREATE DATABASE notify;
