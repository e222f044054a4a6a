/**
 * The three parties: P0 the client (holds the input, learns the output), P1 the server (holds the
 * weights), P2 the helper (deals correlated randomness, never holds shares of real data).
 * @module
 */
export type PartyId = 0 | 1 | 2;

export const ROLES = ['client', 'server', 'helper'] as const;
export type Role = (typeof ROLES)[number];

export const CLIENT: PartyId = 0;
export const SERVER: PartyId = 1;
export const HELPER: PartyId = 2;

/** Role name of a party id. */
export const roleOf = (id: PartyId): Role => ROLES[id];

/** Party id of a role name. @throws {RangeError} */
export function idOf(role: string): PartyId {
  const i = ROLES.indexOf(role as Role);
  if (i < 0) throw new RangeError(`unknown role ${JSON.stringify(role)} (expected one of ${ROLES.join(', ')})`);
  return i as PartyId;
}

/** Direction key of the cost tables: '0>1' is P0 sending to P1. */
export type Dir = '0>1' | '1>0' | '0>2' | '2>0' | '1>2' | '2>1';
export const DIRS: readonly Dir[] = ['0>1', '1>0', '0>2', '2>0', '1>2', '2>1'];
