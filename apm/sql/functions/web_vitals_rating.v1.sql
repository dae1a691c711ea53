-- web_vitals_rating(name text, value float8) -> text: 'good', 'needs-improvement' or 'poor', by the
-- thresholds of Google's web-vitals library (github.com/GoogleChrome/web-vitals, src/onLCP.ts
-- LCPThresholds = [2500, 4000], src/onINP.ts INPThresholds = [200, 500], src/onCLS.ts
-- CLSThresholds = [0.1, 0.25], src/onFCP.ts FCPThresholds = [1800, 3000], src/onTTFB.ts
-- TTFBThresholds = [800, 1800]; FID, deprecated, [100, 300]): good at or below the first, poor
-- above the second (the library's getRating). ms, CLS unitless. NULL for a NULL value or another name.
CREATE FUNCTION web_vitals_rating(name text, value float8) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN value IS NULL OR t.good IS NULL THEN NULL
              WHEN value <= t.good THEN 'good'
              WHEN value <= t.poor THEN 'needs-improvement'
              ELSE 'poor' END
  FROM (SELECT CASE upper(name) WHEN 'LCP' THEN 2500 WHEN 'INP' THEN 200 WHEN 'CLS' THEN 0.1 WHEN 'FCP' THEN 1800
                                WHEN 'TTFB' THEN 800 WHEN 'FID' THEN 100 END::float8 AS good,
               CASE upper(name) WHEN 'LCP' THEN 4000 WHEN 'INP' THEN 500 WHEN 'CLS' THEN 0.25 WHEN 'FCP' THEN 3000
                                WHEN 'TTFB' THEN 1800 WHEN 'FID' THEN 300 END::float8 AS poor) t
$$;
