-- apm_histogram_quantiles(lowers, uppers, counts, qs, lo, hi) -> float8[]:
-- the quantiles qs (0..1) of merged histogram buckets (bucket i holds
-- counts[i] observations in (lowers[i], uppers[i]], sorted by upper bound;
-- ±Infinity at open ends), by the method above; lo/hi: the observations'
-- known min and max, or NULL. NULL when the buckets hold no observation.
CREATE FUNCTION apm_histogram_quantiles(lowers float8[], uppers float8[], counts float8[], qs float8[],
                                        lo float8 DEFAULT NULL, hi float8 DEFAULT NULL) RETURNS float8[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  n      integer := coalesce(cardinality(counts), 0);
  total  float8 := 0;
  result float8[] := '{}';
  q      float8;
  rank   float8;
  cum    float8;
  lower  float8;
  upper  float8;
  v      float8;
BEGIN
  FOR i IN 1..n LOOP
    total := total + counts[i];
  END LOOP;
  IF total <= 0 THEN
    RETURN NULL;
  END IF;
  FOREACH q IN ARRAY qs LOOP
    rank := q * total;
    cum := 0;
    v := NULL;
    FOR i IN 1..n LOOP
      IF counts[i] > 0 AND cum + counts[i] >= rank THEN
        lower := lowers[i];
        upper := uppers[i];
        IF lower = '-Infinity' THEN
          lower := coalesce(lo, CASE WHEN upper > 0 AND upper <> 'Infinity' THEN 0
                                     WHEN upper = 'Infinity' THEN 0 ELSE upper END);
        END IF;
        IF upper = 'Infinity' THEN
          upper := coalesce(hi, lower);
        END IF;
        v := lower + (upper - lower) * greatest(rank - cum, 0) / counts[i];
        EXIT;
      END IF;
      cum := cum + counts[i];
    END LOOP;
    IF v IS NULL THEN
      v := coalesce(hi, lower);
    END IF;
    IF lo IS NOT NULL THEN
      v := greatest(v, lo);
    END IF;
    IF hi IS NOT NULL THEN
      v := least(v, hi);
    END IF;
    result := result || v;
  END LOOP;
  RETURN result;
END $$;
