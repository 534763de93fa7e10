/**
 * Which contacts a page of the contact list holds: the workspace's newest first, by tag, or by what an
 * agent typed (a name, an e-mail, a phone as people write it) through the contact_search index. Ids and
 * rows only; contacts.ts gives them the API's shape (searchContacts).
 */
import { and, desc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { first } from '../db/first';
import { contacts, contactTags, tags } from '../db/schema';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import type { AuthContext } from '../lib/env';
import { ApiError, fieldIssue } from '../lib/errors';
import { normalizePhone } from '../lib/phone';

type ContactRow = typeof contacts.$inferSelect;
type Workspace = Pick<AuthContext, 'workspaceId' | 'defaultCountry'>;

export interface ContactSearch {
  q?: string | undefined;
  tag?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** The index holds trigrams: a shorter query could only be answered by reading every contact. */
const SEARCH_MIN_CHARACTERS = 3;
/**
 * Candidates one page may check at most. The index knows which contacts hold each trigram, not where,
 * so a few hold them all without the query as written; past this many checked, the page ends early with a
 * cursor to go on, rather than holding a heavy thread over the whole workspace.
 */
const SEARCH_MAX_CANDIDATES = 5000;
/**
 * Trigrams asked of the index per query. Overlapping ones narrow little (who holds "gon" mostly holds
 * "onz") and every term is a doclist to merge; each candidate is checked against the full text anyway.
 */
const SEARCH_MAX_TRIGRAMS = 8;
/** Index keys are workspace_id * 2^32 + contact id (migration 0006): a workspace is one range of keys. */
const WORKSPACE_KEY_SPAN = 4_294_967_296;
/** Only digits and what people write between them: "+54 9 11", "11 5500-12", "(011) 4". */
const PHONE_LIKE = /^[\d\s+\-()./]+$/;

/**
 * Case, accents and spacing folded for the check: "José  Núñez" (two spaces, or a non-breaking one
 * pasted from a spreadsheet) → "jose nunez". Plain ASCII with single spaces (most e-mails) skips the work.
 */
const folded = (text: string) =>
  /^[\x21-\x7e]*(?: [\x21-\x7e]+)*$/.test(text)
    ? text.toLowerCase()
    : text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
const digitsOf = (text: string) => text.replace(/\D/g, '');

interface ParsedSearch {
  /** What a name, e-mail or phone must contain, folded. */
  text: string;
  /** Digit strings a phone may contain instead (the query's digits, and its E.164 form when it is a whole number). */
  digits: string[];
  /** The FTS5 query: every string quoted, so the agent's text is never FTS5 syntax. */
  match: string;
}

/**
 * The index query for the text: each word's trigrams side by side, not overlapping, and its last one.
 * Word by word, so that a name stored with two spaces (or a non-breaking one) between its words is still
 * found; a text with no word of three characters ("de la") asks for its trigrams as typed.
 */
function trigramQuery(text: string): string {
  const words = text.split(' ').map((word) => Array.from(word));
  const long = words.filter((word) => word.length >= 3);
  const pieces = (long.length ? long : [Array.from(text)]).flatMap((characters) => {
    const starts = [...characters.keys()].filter((i) => i % 3 === 0 && i + 3 <= characters.length);
    if (starts.at(-1) !== characters.length - 3) starts.push(characters.length - 3);
    return starts.map((i) => characters.slice(i, i + 3).join(''));
  });
  const picked =
    pieces.length <= SEARCH_MAX_TRIGRAMS
      ? pieces
      : Array.from(
          { length: SEARCH_MAX_TRIGRAMS },
          (_, i) => pieces[Math.round((i * (pieces.length - 1)) / (SEARCH_MAX_TRIGRAMS - 1))] as string,
        );
  const trigrams = new Set(picked);
  return `(${[...trigrams].map((trigram) => `"${trigram.replaceAll('"', '""')}"`).join(' AND ')})`;
}

function parseSearch(q: string, defaultCountry: string): ParsedSearch {
  // Control characters never match and a NUL would end the FTS5 string early; the tokenizer folds case
  // and precomposed accents itself, so the index gets the text composed and lower-cased.
  const typed = q
    .replace(/\p{Cc}/gu, ' ')
    .normalize('NFC')
    .toLowerCase()
    .replace(/\p{M}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  const text = folded(typed);
  if (Array.from(text).length < SEARCH_MIN_CHARACTERS) {
    throw new ApiError(422, 'search_too_short', { min: SEARCH_MIN_CHARACTERS }, [
      fieldIssue('query.q', 'minCharacters', { n: SEARCH_MIN_CHARACTERS }),
    ]);
  }
  const digits: string[] = [];
  if (PHONE_LIKE.test(typed) && digitsOf(typed).length >= SEARCH_MIN_CHARACTERS) {
    digits.push(digitsOf(typed));
    // "011 15 5555-1234" is stored as +5491155551234: a whole local number also matches its E.164 digits.
    const phone = normalizePhone(typed, defaultCountry);
    if (phone.valid && !digits.includes(digitsOf(phone.e164))) digits.push(digitsOf(phone.e164));
  }
  const match = [typed, ...digits.filter((d) => d !== typed)].map(trigramQuery).join(' OR ');
  return { text, digits, match };
}

interface SearchCandidate {
  id: number;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
}

/** Whether the contact holds the query as written (case and accents aside), not only its trigrams. */
function holds(search: ParsedSearch, contact: SearchCandidate): boolean {
  const name = `${contact.firstName ?? ''} ${contact.lastName ?? ''}`.trim();
  const phone = contact.phone ?? '';
  return (
    search.digits.some((digits) => digitsOf(phone).includes(digits)) ||
    folded(name).includes(search.text) ||
    folded(contact.email ?? '').includes(search.text) ||
    folded(phone).includes(search.text)
  );
}

/**
 * Newest first, one page at a time. With q, the contact_search index (migration 0006, kept by triggers)
 * yields the workspace's candidates newest first and each is checked against the query as written.
 */
export async function findContactsPage(
  db: Database,
  ws: Workspace,
  search: ContactSearch,
): Promise<{ rows: ContactRow[]; nextCursor: string | null }> {
  const after = decodeCursor(search.cursor);
  if (after !== undefined && Number.isNaN(after))
    throw new ApiError(422, 'validation_failed', {}, [fieldIssue('query.cursor', 'badCursor')]);
  if (search.q) return searchContactsByText(db, ws, search, search.q, after);
  const conditions: SQL[] = [eq(contacts.workspaceId, ws.workspaceId)];
  if (after !== undefined) conditions.push(lt(contacts.id, after));
  if (search.tag) {
    conditions.push(
      inArray(
        contacts.id,
        db
          .select({ id: contactTags.contactId })
          .from(contactTags)
          .innerJoin(tags, eq(tags.id, contactTags.tagId))
          .where(and(eq(tags.workspaceId, ws.workspaceId), eq(tags.key, search.tag.trim().toLowerCase()))),
      ),
    );
  }
  const rows = await db
    .select()
    .from(contacts)
    .where(and(...conditions))
    .orderBy(desc(contacts.id))
    .limit(search.limit + 1);
  const page = rows.slice(0, search.limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > search.limit && last ? encodeCursor(last.id) : null };
}

async function searchContactsByText(
  db: Database,
  ws: Workspace,
  search: ContactSearch,
  q: string,
  after: number | undefined,
): Promise<{ rows: ContactRow[]; nextCursor: string | null }> {
  const parsed = parseSearch(q, ws.defaultCountry);
  let tagged = sql``;
  if (search.tag) {
    const tag = await first<{ id: number }>(
      db,
      sql`SELECT id FROM tags WHERE workspace_id = ${ws.workspaceId} AND key = ${search.tag.trim().toLowerCase()}`,
    );
    if (!tag) return { rows: [], nextCursor: null };
    tagged = sql`AND EXISTS (SELECT 1 FROM contact_tags WHERE tag_id = ${tag.id} AND contact_id = c.id)`;
  }
  const found: number[] = [];
  let before = after;
  let checked = 0;
  let more = true;
  // Growing rounds: most pages need one; a query many contacts nearly match reads on in bigger steps.
  for (let round = 0; found.length <= search.limit && more && checked < SEARCH_MAX_CANDIDATES; round++) {
    const size = Math.min(1000, (search.limit + 1) * 2 ** (round + 1));
    // CROSS JOIN keeps the index as the outer loop, so it hands rows over newest first and LIMIT stops it;
    // the key range is the workspace (and the cursor), so other workspaces' contacts are never read.
    // Integer arithmetic in SQL: keys pass 2^53, and the driver binds numbers as floats.
    const base = sql`(CAST(${ws.workspaceId} AS INTEGER) * ${sql.raw(String(WORKSPACE_KEY_SPAN))})`;
    const candidates = await db.all<SearchCandidate>(sql`SELECT c.id AS id, c.first_name AS firstName,
        c.last_name AS lastName, c.email AS email, c.phone AS phone
      FROM contact_search CROSS JOIN contacts c ON c.id = contact_search.rowid - ${base}
      WHERE contact_search MATCH ${parsed.match}
        AND contact_search.rowid >= ${base}
        AND contact_search.rowid < ${base} + CAST(${Math.min(before ?? WORKSPACE_KEY_SPAN, WORKSPACE_KEY_SPAN)} AS INTEGER)
        AND c.workspace_id = ${ws.workspaceId} ${tagged}
      ORDER BY contact_search.rowid DESC LIMIT ${size}`);
    for (const candidate of candidates) {
      if (holds(parsed, candidate)) found.push(candidate.id);
      if (found.length > search.limit) break;
    }
    checked += candidates.length;
    more = candidates.length === size;
    before = candidates.at(-1)?.id ?? before;
  }
  const ids = found.slice(0, search.limit);
  const rows = ids.length
    ? await db.select().from(contacts).where(inArray(contacts.id, ids)).orderBy(desc(contacts.id))
    : [];
  // A full page continues after its last contact; a page cut short by the budget after the last candidate checked.
  const next = found.length > search.limit ? ids.at(-1) : more ? before : undefined;
  return { rows, nextCursor: next === undefined ? null : encodeCursor(next) };
}
