/**
 * What the offline plan reads in place of a `secure:` value it cannot decrypt (it has no
 * passphrase), and what the recorder writes for a secret input. A module of its own, importing
 * nothing, so the checks that skip a value not known yet can import it without the stack file's
 * reader (src/config/stackFile.ts re-exports it).
 */
export const SECRET_PLACEHOLDER = "[secret]";
