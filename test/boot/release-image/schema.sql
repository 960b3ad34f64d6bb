-- The few tables of Mastodon's schema that mastodon-database.sh reads (test/boot/images.ts).
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
CREATE TABLE ar_internal_metadata (key varchar PRIMARY KEY, value varchar);
CREATE TABLE accounts (id bigserial PRIMARY KEY, username varchar NOT NULL, domain varchar);
CREATE TABLE users (id bigserial PRIMARY KEY, account_id bigint REFERENCES accounts, sign_in_count integer NOT NULL DEFAULT 0);
CREATE TABLE oauth_applications (id bigserial PRIMARY KEY, name varchar, superapp boolean NOT NULL DEFAULT false);
CREATE TABLE statuses (id bigserial PRIMARY KEY, account_id bigint);
INSERT INTO schema_migrations VALUES ('20250101000000');
