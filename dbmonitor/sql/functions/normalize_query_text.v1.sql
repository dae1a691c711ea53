-- pg_stat_activity.query shows live statements with their literal values (an e-mail address in a
-- WHERE clause, a token in an UPDATE): the application role reads every backend's text through
-- pg_read_all_stats. Text shown from it is now normalised the way pg_stat_statements normalises
-- (every constant replaced by $n, numbered after the statement's own parameters), then redacted
-- as before (redact_query_text), so /ops/db/ and monitoring events never show another session's
-- values.
--
-- normalize_query_text(q text) -> text: a one-pass scanner over the SQL lexical rules. Replaced by
-- $n: string constants ('…' with '' doubling, E'…' with backslash escapes, B'…', X'…', N'…',
-- U&'…'), dollar-quoted strings ($$…$$, $tag$…$tag$) and numeric constants (42, 3.5, .5, 1e-3,
-- 0x1F). Kept: identifiers (quoted or not, digits inside them included), keywords, operators,
-- parameters ($1), comments. A constant cut off by track_activity_query_size is replaced up to the
-- end. NULL in, NULL out. Linear in the text's length.
CREATE FUNCTION normalize_query_text(q text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n integer := length(q);
  i integer := 1;
  j integer;
  c text;
  nxt text;
  word text;
  tag text;
  out text := '';
  param integer := coalesce((SELECT max(m[1]::integer) FROM regexp_matches(q, '\$([0-9]{1,9})', 'g') AS m), 0);
BEGIN
  WHILE i <= n LOOP
    c := substr(q, i, 1);
    nxt := substr(q, i + 1, 1);
    IF c = '''' THEN  -- a standard string constant
      j := i + 1;
      LOOP
        EXIT WHEN j > n;
        IF substr(q, j, 1) = '''' THEN
          IF substr(q, j + 1, 1) = '''' THEN j := j + 2; ELSE EXIT; END IF;
        ELSE
          j := j + 1;
        END IF;
      END LOOP;
      param := param + 1; out := out || '$' || param; i := j + 1;
    ELSIF c = '"' THEN  -- a quoted identifier: kept
      j := i + 1;
      LOOP
        EXIT WHEN j > n;
        IF substr(q, j, 1) = '"' THEN
          IF substr(q, j + 1, 1) = '"' THEN j := j + 2; ELSE EXIT; END IF;
        ELSE
          j := j + 1;
        END IF;
      END LOOP;
      out := out || substr(q, i, j - i + 1); i := j + 1;
    ELSIF c = '-' AND nxt = '-' THEN  -- a line comment: kept
      j := strpos(substr(q, i), E'\n');
      IF j = 0 THEN out := out || substr(q, i); i := n + 1;
      ELSE out := out || substr(q, i, j); i := i + j; END IF;
    ELSIF c = '/' AND nxt = '*' THEN  -- a block comment: kept
      j := strpos(substr(q, i + 2), '*/');
      IF j = 0 THEN out := out || substr(q, i); i := n + 1;
      ELSE out := out || substr(q, i, j + 3); i := i + j + 3; END IF;
    ELSIF c = '$' AND nxt ~ '[0-9]' THEN  -- a parameter: kept
      word := substring(substr(q, i) FROM '^\$[0-9]+');
      out := out || word; i := i + length(word);
    ELSIF c = '$' THEN  -- a dollar-quoted string, or a lone $
      tag := substring(substr(q, i) FROM '^\$[A-Za-z_]?[A-Za-z_0-9]*\$');
      IF tag IS NULL THEN
        out := out || c; i := i + 1;
      ELSE
        j := strpos(substr(q, i + length(tag)), tag);
        param := param + 1; out := out || '$' || param;
        IF j = 0 THEN i := n + 1; ELSE i := i + length(tag) + j - 1 + length(tag); END IF;
      END IF;
    ELSIF c ~ '[0-9]' OR (c = '.' AND nxt ~ '[0-9]') THEN  -- a number
      word := substring(substr(q, i) FROM '^(0[xX][0-9A-Fa-f_]+|[0-9_]*\.?[0-9_]+([eE][+-]?[0-9]+)?\.?)');
      IF word IS NULL OR word = '' THEN word := c; END IF;
      param := param + 1; out := out || '$' || param; i := i + length(word);
    ELSIF c ~ '[A-Za-z_\u0080-\uffff]' THEN  -- a word: an identifier, a keyword or a string prefix
      word := substring(substr(q, i) FROM '^[A-Za-z_\u0080-\uffff][A-Za-z_0-9$\u0080-\uffff]*');
      IF upper(word) IN ('E', 'B', 'X', 'N') AND substr(q, i + length(word), 1) = '''' THEN
        j := i + 2;
        LOOP  -- E'…' may escape a quote with a backslash
          EXIT WHEN j > n;
          IF upper(word) = 'E' AND substr(q, j, 1) = '\' THEN j := j + 2;
          ELSIF substr(q, j, 1) = '''' THEN
            IF substr(q, j + 1, 1) = '''' THEN j := j + 2; ELSE EXIT; END IF;
          ELSE j := j + 1;
          END IF;
        END LOOP;
        param := param + 1; out := out || '$' || param; i := j + 1;
      ELSIF upper(word) = 'U' AND substr(q, i + 1, 2) = '&''' THEN
        j := i + 3;
        LOOP
          EXIT WHEN j > n;
          IF substr(q, j, 1) = '''' THEN
            IF substr(q, j + 1, 1) = '''' THEN j := j + 2; ELSE EXIT; END IF;
          ELSE j := j + 1;
          END IF;
        END LOOP;
        param := param + 1; out := out || '$' || param; i := j + 1;
      ELSE
        out := out || word; i := i + length(word);
      END IF;
    ELSE
      out := out || c; i := i + 1;
    END IF;
  END LOOP;
  RETURN out;
END $$;
