-- A search of words asked together reads them without the conversations
-- when they are rare (api/search, store.go).
--
-- A month's slice of a search asks the index for its words AND the
-- searcher's conversations. For one word (or its forms) that is cheap: a
-- short posting list ends the scan early (0.3 ms a month for a rare word,
-- a member of 100 conversations, 10 M messages, measured). Words asked
-- together are not: the index walks their posting lists against each
-- conversation's, 1.35 ms a month for two words with 38 common messages,
-- every month of the year. Asked for the words alone, the index answers in
-- 0.3 ms and the few rows it names are read and those of other
-- conversations dropped.
--
-- Whether the words are rare is the planner's estimate. Postgres keeps no
-- statistics on the expression of a partial index (the search index
-- leaves deleted messages out) and estimated every word at 0.5 % of a
-- month: each partition of messages now has statistics on that
-- expression (its most common lexemes, by ANALYZE; autovacuum keeps those
-- of the months being written fresh). A partition made later copies them
-- from the parent's.
CREATE STATISTICS messages_search_terms ON (chatterly_search_terms(search_vector, body)) FROM messages;

DO $$
DECLARE
  part regclass;
BEGIN
  FOR part IN SELECT h.inhrelid::regclass FROM pg_inherits h WHERE h.inhparent = 'messages'::regclass LOOP
    EXECUTE format('CREATE STATISTICS %I ON (chatterly_search_terms(search_vector, body)) FROM %s',
                   part::text || '_search_terms', part);
  END LOOP;
END
$$;

-- Every partition's statistics now, the old months' included (autovacuum
-- analyzes only the months being written): about 30,000 rows read per
-- partition, seconds each.
ANALYZE messages;

-- chatterly_ensure_partitions as in 0007, copying the parent's statistics
-- objects to a new partition (INCLUDING STATISTICS).
CREATE OR REPLACE FUNCTION chatterly_ensure_partitions(parent text, first_month timestamptz, count int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  m timestamptz := date_trunc('month', first_month AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  made int := 0;
  part text;
  lo bigint;
  hi bigint;
  cols text;
BEGIN
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute
   WHERE attrelid = parent::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
  FOR i IN 1..count LOOP
    part := format('%s_%s', parent, to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'));
    lo := chatterly_id_floor(m);
    hi := chatterly_id_floor(m + interval '1 month');
    IF to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STATISTICS)', part, parent);
      EXECUTE format('WITH moved AS (DELETE FROM %I WHERE id >= %s AND id < %s RETURNING %s) INSERT INTO %I (%s) SELECT %s FROM moved',
                     parent || '_default', lo, hi, cols, part, cols, cols);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, part, lo, hi);
      made := made + 1;
    END IF;
    m := m + interval '1 month';
  END LOOP;
  RETURN made;
END
$$;

-- chatterly_search_matches estimates how many live messages of every
-- conversation with ids in [lo, hi) match iq (asked of the search index):
-- the planner's estimate, from the statistics above. Volatile only because
-- Postgres refuses EXPLAIN in a function that is not: it changes nothing.
CREATE FUNCTION chatterly_search_matches(iq tsquery, lo bigint, hi bigint) RETURNS float8
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM messages x
            WHERE chatterly_search_terms(x.search_vector, x.body) @@ $1
              AND x.deleted_at IS NULL AND x.id >= $2 AND x.id < $3'
     INTO plan USING iq, lo, hi;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END
$$;

-- chatterly_search_recent as in 0011, but a month's slice of words asked
-- together ("a & b", after their forms) asks the index for the words alone
-- when the planner expects them in at most 5 messages per conversation
-- searched, in every conversation of the month: a row read costs about
-- 0.6 µs, a conversation asked of the index 3 to 13 µs (measured). The
-- estimate can be far too low (words that come together, as "pull
-- request", are counted as if independent), so that read stops at four
-- times the expected count: the slice then asks for words and
-- conversations as before, and so do the older months of the search.
-- No parallel workers: with these estimates the planner gave a frequent
-- word's month a bitmap scan in two workers, and the search took 14.2 ms
-- against 8.0 without them (psql, 10 M messages).
CREATE OR REPLACE FUNCTION chatterly_search_recent(q tsquery, iq tsquery, convs bigint[], lo bigint, hi bigint, author bigint, n int)
RETURNS TABLE (id bigint, conversation_id bigint, body text, rank real)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
  wide int := 5 * cardinality(convs);
  most int := 4 * wide;
  newest bigint;
  oldest bigint;
  m timestamptz;
  s_lo bigint;
  got bigint := 0;
  k bigint;
  seen int;
  ids bigint[];
BEGIN
  SELECT max(x.id), min(x.id) INTO newest, oldest FROM messages x;
  IF newest IS NULL THEN
    RETURN;
  END IF;
  hi := least(hi, newest + 1);
  lo := greatest(lo, oldest);
  IF lo >= hi THEN
    RETURN;
  END IF;
  LOOP
    m := date_trunc('month', (timestamptz '2024-01-01 00:00:00+00'
           + ((hi - 1) >> 22) * interval '1 millisecond') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    s_lo := greatest(lo, chatterly_id_floor(m));
    seen := NULL;
    IF wide > 0 AND strpos(iq::text, ' & ') > 0 AND chatterly_search_matches(iq, s_lo, hi) <= wide THEN
      SELECT count(*), array_agg(h.id) FILTER (WHERE h.conversation_id = ANY (convs) AND (author = 0 OR h.user_id = author))
        INTO seen, ids
        FROM (SELECT x.id, x.conversation_id, x.user_id
                FROM messages x
               WHERE chatterly_search_terms(x.search_vector, x.body) @@ iq
                 AND x.deleted_at IS NULL AND x.id >= s_lo AND x.id < hi
               LIMIT most + 1) h;
      IF seen > most THEN
        wide := 0;
        seen := NULL;
      END IF;
    END IF;
    IF seen IS NOT NULL THEN
      RETURN QUERY
        SELECT x.id, x.conversation_id, x.body, ts_rank(x.search_vector, q)
          FROM messages x
         WHERE x.id = ANY (coalesce(ids, '{}')) AND x.id >= s_lo AND x.id < hi
           AND x.deleted_at IS NULL AND x.search_vector @@ q
         ORDER BY x.id DESC
         LIMIT n - got;
    ELSE
      RETURN QUERY
        WITH slice AS MATERIALIZED (
          SELECT x.id, x.conversation_id, x.body, x.search_vector
            FROM messages x
           WHERE ARRAY[x.conversation_id] && convs AND chatterly_search_terms(x.search_vector, x.body) @@ iq
             AND x.deleted_at IS NULL AND x.id >= s_lo AND x.id < hi
             AND (author = 0 OR x.user_id = author))
        SELECT s.id, s.conversation_id, s.body, ts_rank(s.search_vector, q)
          FROM slice s
         WHERE s.search_vector @@ q
         ORDER BY s.id DESC
         LIMIT n - got;
    END IF;
    GET DIAGNOSTICS k = ROW_COUNT;
    got := got + k;
    EXIT WHEN got >= n OR s_lo <= lo;
    hi := s_lo;
  END LOOP;
END
$$;
