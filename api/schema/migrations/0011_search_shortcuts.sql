-- Prefix and phrase shortcuts in the search index (api/search, store.go).
--
-- A prefix query ('renfi':*) made the index read, month by month, the
-- posting list of every word it completes (37 words and 52,700 messages a
-- month for "renfi", 44 ms a month measured on 10 M messages); a phrase of
-- two frequent words read both words' posting lists in full (5 ms a month,
-- every month, as its matches are few). The index now holds, beside each
-- message's words, its shortcuts:
--
--   renf*   each word's first 3, 4 and 5 letters (words as written,
--           lower-cased, longer than the prefix): a prefix query of 3 to 5
--           letters reads one posting list;
--   *1a2b   a hash (one of 65,536) of each pair of adjacent words as
--           written: a phrase reads the posting lists of its pairs' hashes,
--           and the words' positions are checked on the few rows they name.
--
-- Neither form can come from a message's own text: the parser never makes
-- a lexeme that starts with '*', and a lexeme of only letters and digits
-- never ends with one.
--
-- The shortcuts are in the index only (its column is an expression), not in
-- the stored search_vector, which ranking, headlines and the phrase check
-- read: the table's rows do not grow.
CREATE FUNCTION chatterly_search_terms(v tsvector, body text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  written tsvector := to_tsvector('simple'::regconfig, coalesce(body, ''));
BEGIN
  RETURN strip(v) || array_to_tsvector(ARRAY(
    SELECT left(u.lexeme, k) || '*'
      FROM unnest(written) u, generate_series(3, least(5, length(u.lexeme) - 1)) k
    UNION ALL
    SELECT '*' || to_hex(hashtext(w.lexeme || ' ' || w.next) & 65535)
      FROM (SELECT u.lexeme, p, lead(u.lexeme) OVER (ORDER BY p) AS next, lead(p) OVER (ORDER BY p) AS next_p
              FROM unnest(written) u, unnest(u.positions) p) w
     WHERE w.next_p = w.p + 1));
END
$$;

-- chatterly_search_query is what a message must match, checked on its
-- stored search_vector (positions: phrases are checked here). A phrase is
-- now its words as written, in order ("running fast" no longer finds "runs
-- fast"): the index's pairs are of words as written, and a quoted phrase is
-- what the person typed. A term whose stemmed and written forms are the
-- same is asked once.
CREATE OR REPLACE FUNCTION chatterly_search_query(terms text[], prefix boolean[], negated boolean[]) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  q tsquery;
  t tsquery;
  part tsquery;
  cfg regconfig;
BEGIN
  FOR i IN 1 .. coalesce(array_length(terms, 1), 0) LOOP
    t := NULL;
    IF NOT prefix[i] AND numnode(phraseto_tsquery('simple', terms[i])) > 1 THEN
      t := phraseto_tsquery('simple', terms[i]);
    ELSE
      FOREACH cfg IN ARRAY ARRAY['chatterly_search', 'simple']::regconfig[] LOOP
        IF prefix[i] THEN
          part := to_tsquery(cfg, quote_literal(terms[i]) || ':*');
        ELSE
          part := phraseto_tsquery(cfg, terms[i]);
        END IF;
        IF numnode(part) > 0 AND (t IS NULL OR part <> t) THEN
          t := CASE WHEN t IS NULL THEN part ELSE t || part END;
        END IF;
      END LOOP;
    END IF;
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

-- chatterly_search_index_query is what the index is asked (against
-- chatterly_search_terms): a word as chatterly_search_query asks it; a
-- prefix of 3 to 5 letters as its shortcut (or the word itself); a longer
-- or shorter prefix as a prefix of the index's lexemes; a phrase as its
-- pairs' hashes. Its answer holds every match of chatterly_search_query
-- (and, for phrases, the few rows whose pairs only share a hash), so the
-- search asks both. A left-out phrase is left to chatterly_search_query
-- (a pair's hash also names other pairs). Empty when no term makes a
-- lexeme to find.
CREATE FUNCTION chatterly_search_index_query(terms text[], prefix boolean[], negated boolean[]) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  q tsquery;
  t tsquery;
  found boolean := false;
  written text;
  pair text;
BEGIN
  FOR i IN 1 .. coalesce(array_length(terms, 1), 0) LOOP
    t := NULL;
    IF prefix[i] THEN
      written := (SELECT min(l) FROM unnest(tsvector_to_array(to_tsvector('simple', terms[i]))) l);
      IF written IS NULL THEN
        CONTINUE;
      ELSIF length(written) BETWEEN 3 AND 5 THEN
        t := quote_literal(written || '*')::tsquery || quote_literal(written)::tsquery;
      ELSE
        t := (quote_literal(written) || ':*')::tsquery;
      END IF;
    ELSIF numnode(phraseto_tsquery('simple', terms[i])) > 1 THEN
      IF negated[i] THEN
        CONTINUE;
      END IF;
      FOR pair IN SELECT l FROM unnest(tsvector_to_array(chatterly_search_terms('', terms[i]))) l WHERE l LIKE '*%' LOOP
        t := CASE WHEN t IS NULL THEN quote_literal(pair)::tsquery ELSE t && quote_literal(pair)::tsquery END;
      END LOOP;
      -- No two of its words adjacent (a gap the parser left): its words.
      t := coalesce(t, plainto_tsquery('simple', terms[i]));
    ELSE
      t := chatterly_search_query(ARRAY[terms[i]], ARRAY[false], ARRAY[false]);
      IF numnode(t) = 0 THEN
        CONTINUE;
      END IF;
    END IF;
    IF negated[i] THEN
      t := !! t;
    ELSE
      found := true;
    END IF;
    q := CASE WHEN q IS NULL THEN t ELSE q && t END;
  END LOOP;
  IF NOT found THEN
    RETURN to_tsquery('simple', '');
  END IF;
  RETURN q;
END
$$;

DROP INDEX messages_search;
CREATE INDEX messages_search ON messages USING gin ((ARRAY[conversation_id]), chatterly_search_terms(search_vector, body)) WHERE deleted_at IS NULL;

-- chatterly_search_recent as in 0010, asking the index iq and each row q,
-- each month's slice planned for its own bounds (the generic plan, over
-- every partition and pruned as it starts, made a search of a rare word
-- 30 ms rather than 9: measured, 10 M messages). The 0010 form (without iq) stays for the apis of the previous release
-- while a rolling update replaces them: it still answers, without the
-- index's help (slow). A later migration drops it.
CREATE FUNCTION chatterly_search_recent(q tsquery, iq tsquery, convs bigint[], lo bigint, hi bigint, author bigint, n int)
RETURNS TABLE (id bigint, conversation_id bigint, body text, rank real)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  newest bigint;
  oldest bigint;
  m timestamptz;
  s_lo bigint;
  got bigint := 0;
  k bigint;
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
    GET DIAGNOSTICS k = ROW_COUNT;
    got := got + k;
    EXIT WHEN got >= n OR s_lo <= lo;
    hi := s_lo;
  END LOOP;
END
$$;
