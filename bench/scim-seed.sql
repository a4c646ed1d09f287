-- Seeds the SCIM benchmark's directory (bench/run, BENCH_SUITES=scim) by cloning one template
-- User, created through the SCIM endpoint, into :n more users of the same org: the marker TPL
-- (tpl in lower-cased values) becomes the user's number, so userName is user000001@bench.example
-- and so on. Every row the broker wrote for the template is copied (the Tessera account, the
-- membership, the SCIM row and its indexed values), so the seeded users are stored exactly like
-- provisioned ones. Then the first :large_members users join the group :large (and get the role
-- the org's rule gives its members), each group named 'Team …' gets :team_members users, and the
-- tables are analyzed, as autovacuum would have.
-- psql variables: org, tpl (the template's SCIM id), n, large, large_members, team_members.
\set ON_ERROR_STOP on
BEGIN;

-- A UUIDv7, as Tessera makes ids: 48 bits of milliseconds first, so ids sort by creation.
CREATE FUNCTION pg_temp.v7(ms bigint, h text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT (lpad(to_hex(ms), 12, '0') || '7' || substr(h, 1, 3)
          || substr('89ab', 1 + ('x' || substr(h, 4, 1))::bit(4)::int % 4, 1)
          || substr(h, 5, 15))::uuid
$$;

CREATE TEMP TABLE seed ON COMMIT DROP AS
SELECT i, lpad(i::text, 6, '0') AS n,
       pg_temp.v7(ms + i, md5('scim' || i)) AS scim_id,
       pg_temp.v7(ms + i, md5('user' || i)) AS user_id,
       pg_temp.v7(ms + i, md5('membership' || i)) AS membership_id
FROM generate_series(1, :n) AS i,
     (SELECT floor(extract(epoch FROM now()) * 1000)::bigint - :n - 60000 AS ms) AS base;

CREATE TEMP TABLE tpl ON COMMIT DROP AS
SELECT s.id AS scim_id, s.user_id FROM scim_users s WHERE s.id = :'tpl' AND s.org_id = :'org';

INSERT INTO users (id, email, email_verified, name, given_name, family_name, status, created_at,
                   updated_at, last_login_at)
SELECT seed.user_id, replace(u.email, 'tpl', seed.n), u.email_verified,
       replace(u.name, 'TPL', seed.n), replace(u.given_name, 'TPL', seed.n),
       replace(u.family_name, 'TPL', seed.n), u.status, u.created_at, u.updated_at, NULL
FROM users u JOIN tpl ON u.id = tpl.user_id CROSS JOIN seed;

INSERT INTO memberships (id, org_id, user_id, roles, status, source, created_at, updated_at)
SELECT seed.membership_id, m.org_id, seed.user_id, m.roles, m.status, m.source, m.created_at,
       m.updated_at
FROM memberships m JOIN tpl ON m.user_id = tpl.user_id AND m.org_id = :'org' CROSS JOIN seed;

INSERT INTO scim_users (id, org_id, user_id, user_name, user_name_norm, external_id, active, doc,
                        version, created_at, updated_at)
SELECT seed.scim_id, s.org_id, seed.user_id, replace(s.user_name, 'TPL', seed.n),
       replace(s.user_name_norm, 'tpl', seed.n), replace(s.external_id, 'TPL', seed.n), s.active,
       replace(s.doc::text, 'TPL', seed.n)::jsonb, s.version, s.created_at, s.updated_at
FROM scim_users s JOIN tpl ON s.id = tpl.scim_id CROSS JOIN seed;

INSERT INTO scim_values (resource_id, path, item, org_id, norm, num)
SELECT seed.scim_id, v.path, v.item, v.org_id, replace(v.norm, 'tpl', seed.n), v.num
FROM scim_values v JOIN tpl ON v.resource_id = tpl.scim_id CROSS JOIN seed;

UPDATE scim_counts SET users = users + :n WHERE org_id = :'org';

INSERT INTO scim_group_members (group_id, user_id, org_id, created_at)
SELECT :'large', seed.user_id, :'org', now() FROM seed WHERE seed.i <= :large_members;

INSERT INTO scim_group_members (group_id, user_id, org_id, created_at)
SELECT g.id, seed.user_id, :'org', now()
FROM (SELECT id, row_number() OVER (ORDER BY display_name) AS k
      FROM scim_groups WHERE org_id = :'org' AND display_name LIKE 'Team %') AS g
JOIN seed ON seed.i > (g.k - 1) * :team_members AND seed.i <= g.k * :team_members;

-- The org's rule gives members of the large group the role "staff" (others keep the
-- template's default role), as provisioning them one by one would have.
UPDATE memberships SET roles = '["staff"]'
WHERE org_id = :'org' AND user_id IN (SELECT user_id FROM scim_group_members WHERE group_id = :'large');

COMMIT;
VACUUM ANALYZE users, memberships, scim_users, scim_values, scim_group_members, scim_groups;
