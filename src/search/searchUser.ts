/**
 * Mastodon's own OpenSearch user (pure): Mastodon talks to the search domain as this user, never as
 * the domain's master user. The scheduler's host creates it at every first boot, before the search
 * indices are deployed (src/search/files/mastodon-search-user.py, run by mastodon-database's
 * prepare), as the master user through the security plugin's REST API (Amazon OpenSearch Service
 * Developer Guide, "Fine-grained access control": with the internal user database, further users,
 * roles and role mappings are made by the master user through that API). Every fact of it (names,
 * the role's permissions, the API's path, where the passwords are) is computed here once, for the
 * env, the scheduler's database.conf and the role file alike.
 */
import type { SearchEngineVersion } from "./engines";
import { SEARCH_MASTER_USER } from "./engines";

/** The user Mastodon authenticates as (ES_USER); ES_PASS is its generated password. */
export const SEARCH_APP_USER = "mastodon_app";
/** Its role, mapped to it alone. */
export const SEARCH_APP_ROLE = "mastodon_app";

/**
 * ES_PREFIX: Chewy names every index it makes `<prefix>_<index>` (Mastodon's
 * config/initializers/chewy.rb passes ES_PREFIX, else REDIS_NAMESPACE, as Chewy's prefix; Chewy's
 * Index.index_name joins prefix, name and suffix with `_`), its own specification index
 * (chewy_specifications) included. With a prefix the role can name Mastodon's indices by one
 * pattern, the ones a later Mastodon adds among them, and nothing else on the domain.
 */
export const SEARCH_INDEX_PREFIX = "mastodon";

/**
 * What the role allows (OpenSearch Security plugin's default action groups, "Default action
 * groups"): on the cluster, `cluster_monitor` (the client's version check at GET /, Chewy's health
 * wait) and `cluster_composite_ops` (bulk, mget, msearch, scroll and clear-scroll, alias changes,
 * which the plugin checks at cluster level before the indices they name); on Mastodon's indices
 * alone, `crud` (search, count, index, delete documents), `create_index` (index and mapping
 * creation) and `manage` (aliases, settings such as refresh_interval during an import, deleting an
 * index `tootctl search deploy` replaces). Enough for Rails, Sidekiq and `tootctl search deploy`:
 * nothing on another index, nothing of the security configuration.
 */
export function searchAppRole(prefix: string = SEARCH_INDEX_PREFIX): Record<string, unknown> {
  return {
    cluster_permissions: ["cluster_monitor", "cluster_composite_ops"],
    index_permissions: [
      { index_patterns: [`${prefix}_*`], allowed_actions: ["crud", "create_index", "manage"] },
    ],
  };
}

/**
 * The security REST API's path on the domain's engine: OpenSearch serves it under _plugins, the
 * Elasticsearch versions (the Open Distro security plugin) under _opendistro (Amazon OpenSearch
 * Service Developer Guide, "Fine-grained access control", REST API differences).
 */
export function securityApiPath(engineVersion: SearchEngineVersion): string {
  return engineVersion.startsWith("OpenSearch_") ? "_plugins/_security/api" : "_opendistro/_security/api";
}

/** Everything the scheduler's host needs to make the user: no secret, only where the passwords are. */
export interface SearchAccess {
  /** `https://<the domain's VPC endpoint>`. */
  readonly url: string;
  /** The security plugin's REST API path: _plugins/_security/api, or _opendistro/ on Elasticsearch. */
  readonly api: string;
  /** The domain's master user (fine-grained access control's internal user database). */
  readonly masterUser: string;
  /** The master's password: read by the scheduler's host alone. */
  readonly masterPasswordParameter: string;
  /** The user Mastodon authenticates as (ES_USER). */
  readonly appUser: string;
  /** The app user's password (ES_PASS): read by every host running Rails. */
  readonly appPasswordParameter: string;
  /** The role mapped to that user alone: Mastodon's indices, nothing else. */
  readonly role: string;
}

export function searchAccess(input: {
  readonly endpoint: string;
  readonly engineVersion: SearchEngineVersion;
  readonly masterPasswordParameter: string;
  readonly appPasswordParameter: string;
}): SearchAccess {
  return {
    url: `https://${input.endpoint}`,
    api: securityApiPath(input.engineVersion),
    masterUser: SEARCH_MASTER_USER,
    masterPasswordParameter: input.masterPasswordParameter,
    appUser: SEARCH_APP_USER,
    appPasswordParameter: input.appPasswordParameter,
    role: SEARCH_APP_ROLE,
  };
}

export const SEARCH_USER_PATHS = {
  program: "/usr/local/sbin/mastodon-search-user",
  /** The role's document, PUT as written (no secret: user-data carries it). */
  role: "/etc/mastodon/search-role.json",
} as const;

/** The role file's text: the document searchAppRole gives, as the program PUTs it. */
export function renderSearchRole(prefix: string = SEARCH_INDEX_PREFIX): string {
  return `${JSON.stringify(searchAppRole(prefix), null, 2)}\n`;
}

/** The database.conf lines mastodon-search-user reads (mastodon-database.sh accepts and passes them on). */
export function searchConfigLines(access: SearchAccess): [string, string][] {
  return [
    ["search_program", SEARCH_USER_PATHS.program],
    ["search_url", access.url],
    ["search_api", access.api],
    ["search_master_user", access.masterUser],
    ["search_master_password_parameter", access.masterPasswordParameter],
    ["search_app_user", access.appUser],
    ["search_app_password_parameter", access.appPasswordParameter],
    ["search_role", access.role],
    ["search_role_file", SEARCH_USER_PATHS.role],
  ];
}
