-- Message search (api/search): Postgres full-text search over messages.

-- chatterly_search stems English words ("running" finds "runs"). It is a
-- configuration of our own, so its dictionaries can change (another
-- language, a synonym list) without touching the queries; a change needs
-- the column rebuilt, which a migration does.
CREATE TEXT SEARCH CONFIGURATION chatterly_search (COPY = pg_catalog.english);

-- chatterly_search_vector is what a message body is searched by: its
-- stemmed words (chatterly_search) and its words as written ('simple':
-- lower-cased, no stemming, no stop words), so names, words of other
-- languages and English stop words ("The Who") are found too, whichever
-- way the stemmer would have mangled or dropped them.
CREATE FUNCTION chatterly_search_vector(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_tsvector('chatterly_search'::regconfig, coalesce(body, ''))
      || to_tsvector('simple'::regconfig, coalesce(body, ''))
$$;

-- chatterly_search_query turns the terms api/search parsed from a query
-- into one tsquery. A term is a word or a phrase (several words, which
-- must follow each other); prefix[i] makes term i a word prefix (a single
-- word of letters and digits), negated[i] asks messages without it. A
-- term matches if its stemmed form or its form as written does (the
-- vector holds both, see chatterly_search_vector), so a term of stop words
-- still matches by its simple form; the terms are ANDed. Terms that make
-- no lexeme at all (punctuation) are left out; none left is the empty
-- query, which matches nothing.
CREATE FUNCTION chatterly_search_query(terms text[], prefix boolean[], negated boolean[]) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  q tsquery;
  t tsquery;
  part tsquery;
  cfg regconfig;
BEGIN
  FOR i IN 1 .. coalesce(array_length(terms, 1), 0) LOOP
    t := NULL;
    FOREACH cfg IN ARRAY ARRAY['chatterly_search', 'simple']::regconfig[] LOOP
      IF prefix[i] THEN
        part := to_tsquery(cfg, quote_literal(terms[i]) || ':*');
      ELSE
        part := phraseto_tsquery(cfg, terms[i]);
      END IF;
      IF numnode(part) > 0 THEN
        t := CASE WHEN t IS NULL THEN part ELSE t || part END;
      END IF;
    END LOOP;
    IF t IS NULL THEN
      CONTINUE;
    END IF;
    IF negated[i] THEN
      t := !! t;
    END IF;
    q := CASE WHEN q IS NULL THEN t ELSE q && t END;
  END LOOP;
  RETURN coalesce(q, to_tsquery('simple', ''));
END
$$;

-- The column is generated in the row's own statement, so a message is
-- findable as soon as its send commits.
ALTER TABLE messages ADD COLUMN search_vector tsvector
  GENERATED ALWAYS AS (chatterly_search_vector(body)) STORED;

-- One index per partition (the parent's index is made on each, and on each
-- partition attached later). Deleted messages are never found, so they are
-- not indexed. The conversation is in the index beside the words, so a
-- search ANDs the caller's conversations with the words inside the index
-- rather than reading every message with the word. It is indexed as a
-- one-element array: a search asks ARRAY[conversation_id] && (the
-- caller's conversations), which one GIN scan answers for the whole list;
-- conversation_id = ANY(list) on a scalar GIN column (btree_gin) is one
-- scan per conversation, each reading the word's posting list again (15
-- times the pages for 100 conversations, measured).
CREATE INDEX messages_search ON messages USING gin ((ARRAY[conversation_id]), search_vector) WHERE deleted_at IS NULL;

-- chatterly_ensure_partitions again: a new partition copies the parent's
-- generated columns (ATTACH refuses a plain column where the parent's is
-- generated), and rows moved out of the default partition are copied
-- without them (they are generated again on insert).
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
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)', part, parent);
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
