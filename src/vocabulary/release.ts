/**
 * Mastodon release tags. Mastodon's releases are git tags `vMAJOR.MINOR.PATCH` (Mastodon's
 * documentation, "Upgrading to a new release"; pre-releases add `-beta.N` or `-rc.N` and are refused),
 * and the official images carry the same tags. This package's environment and units are Mastodon
 * 4.6's (data/mastodon-4.6-env-names.txt), so a stack runs a 4.6 release, and never a moving name.
 */

/** The release line this package deploys. */
export const SUPPORTED_LINE = { major: 4, minor: 6 } as const;

const EXAMPLE = `v${SUPPORTED_LINE.major}.${SUPPORTED_LINE.minor}.5`;
/** Release tags; mastodon:version (src/config/schema) and npm run upgrade both check them here. */
const TAG = /^v([0-9]+)\.([0-9]+)\.([0-9]+)$/;
const PRERELEASE = /^v[0-9]+\.[0-9]+\.[0-9]+-/;

export interface Release {
  readonly tag: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** A tag of any Mastodon release (vX.Y.Z), or undefined. */
export function parseTag(tag: string): Release | undefined {
  const m = TAG.exec(tag);
  if (!m) return undefined;
  return { tag, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/**
 * The release a stack may be set to, or why not: a message that reads on from the value (as config
 * problems do: `mastodon:version: "latest" is not a release...`) and says what to give instead.
 */
export function checkReleaseTag(tag: string): { release: Release } | { problem: string } {
  const line = `${SUPPORTED_LINE.major}.${SUPPORTED_LINE.minor}`;
  if (/^(latest|edge|nightly|main|stable)$/i.test(tag.trim())) {
    return {
      problem: `is not a release: a stack pins one Mastodon release so that it changes only when you say so; give a Mastodon ${line} release tag such as ${EXAMPLE}`,
    };
  }
  if (PRERELEASE.test(tag)) {
    return {
      problem: `is a pre-release (alpha, beta or release candidate): give a Mastodon ${line} release tag such as ${EXAMPLE}`,
    };
  }
  if (/^[0-9]+\.[0-9]+\.[0-9]+$/.test(tag)) {
    return { problem: `has no "v": Mastodon's release tags start with "v": v${tag}` };
  }
  const release = parseTag(tag);
  if (!release) {
    return {
      problem: `is not a Mastodon release tag (vMAJOR.MINOR.PATCH): give a Mastodon ${line} release such as ${EXAMPLE}`,
    };
  }
  if (release.major !== SUPPORTED_LINE.major || release.minor !== SUPPORTED_LINE.minor) {
    return {
      problem: `is not a Mastodon ${line} release: this package's environment and units are Mastodon ${line}'s; give a tag such as ${EXAMPLE}`,
    };
  }
  return { release };
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareReleases(a: Release, b: Release): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}
