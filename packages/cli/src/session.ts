/**
 * The session's public parameters and their agreement live in @si/models (a browser client runs them
 * too); re-exported here for the command line.
 * @module
 */
export { agree, finish, parseMode, specDigest, SessionError, type PublicParams } from '@si/models';
