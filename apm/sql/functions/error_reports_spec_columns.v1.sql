-- error_reports_spec_columns() -> trigger (BEFORE INSERT OR UPDATE, per row) — issue 18 §1.
--
-- error_reports answers to the WS-259 specification's column names as real columns kept in step
-- with the portal's own ones by this trigger (generated columns could not be written by the
-- specification's own INSERTs):
--
--   error_message  = message
--   created_at     = received_at (when the row was stored)
--   is_wedding_day = wedding_context->>'is_wedding_day' (a wedding of the organization, not
--                    cancelled, on its local date at occurred_at; wedding_context is set by ingest,
--                    computed here when missing)
--   severity       = the level mapped to error_severity_type: info → low, warning → medium,
--                    error → high, critical → critical, or wedding_emergency when is_wedding_day
--
-- A row written by the portal (ingest's INSERT … SELECT, the ORM) has pattern_id and the portal's
-- columns: those are the truth and the spec's are derived. A row written in the specification's
-- terms (no pattern_id: error_type, error_message, severity, created_at, organization_id) gets the
-- portal's columns from them first — message, level (low → info, medium → warning, high → error,
-- critical and wedding_emergency → critical), received_at and occurred_at (created_at, else now()),
-- service 'unknown' unless given — and its error pattern, looked up or created (occurrence count,
-- first/last seen and worst level kept as errors_ingest keeps them). Such a pattern's fingerprint
-- is SHA-256 hex of (error type, normalized message, empty top frame) joined by U+001F, the
-- message normalized by regular expressions modelled on apm.errors.normalize_message (uuids,
-- emails, URLs, IPs, hex, quoted strings and numbers replaced by placeholders).
--
-- Cost on the ingest path: a plpgsql trigger per row, measured by bench/error_ingest.py.
CREATE FUNCTION error_reports_normalize_message(message text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT left(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
         regexp_replace(regexp_replace(regexp_replace(btrim(left(message, 10000)),
         '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'gi'),
         '[[:alnum:]_][[:alnum:]_.+-]*@[[:alnum:]_-]+(\.[[:alnum:]_-]+)+', '<email>', 'g'),
         'https?://\S+', '<url>', 'g'),
         '\m\d{1,3}(\.\d{1,3}){3}(:\d+)?\M', '<ip>', 'g'),
         '\m0x[0-9a-f]+\M', '<hex>', 'gi'),
         '\m[0-9a-f]{16,}\M', '<hex>', 'gi'),
         '''[^'']*''|"[^"]*"', '<str>', 'g'),
         '\m\d+(\.\d+)?\M', '<num>', 'g'),
         '\s+', ' ', 'g'), 2000)
$$;

CREATE FUNCTION error_reports_spec_columns() RETURNS trigger
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_normalized text;
  v_fingerprint text;
  v_pattern bigint;
BEGIN
  IF TG_OP = 'INSERT' AND NEW.pattern_id IS NULL THEN
    NEW.error_type := coalesce(NEW.error_type, 'Error');
    NEW.message := coalesce(NEW.message, NEW.error_message, '');
    NEW.level := coalesce(NEW.level, CASE NEW.severity
                            WHEN 'low' THEN 'info' WHEN 'medium' THEN 'warning' WHEN 'high' THEN 'error'
                            WHEN 'critical' THEN 'critical' WHEN 'wedding_emergency' THEN 'critical' END, 'error');
    NEW.received_at := coalesce(NEW.created_at, NEW.received_at, now());
    NEW.occurred_at := coalesce(NEW.occurred_at, NEW.created_at, NEW.received_at);
    NEW.service := coalesce(NEW.service, 'unknown');
    NEW.stack_trace := coalesce(NEW.stack_trace, '');
    NEW.environment := coalesce(NEW.environment, '');
    NEW.release := coalesce(NEW.release, '');
    NEW.url := coalesce(NEW.url, '');
    NEW.tags := coalesce(NEW.tags, '{}'::jsonb);
    v_normalized := error_reports_normalize_message(NEW.message);
    v_fingerprint := encode(sha256(convert_to(NEW.error_type || chr(31) || v_normalized || chr(31), 'UTF8')), 'hex');
    INSERT INTO error_patterns AS p (organization_id, fingerprint, service, error_type, normalized_message, top_frame,
                                     level, status, first_seen, last_seen, occurrence_count, regression_count)
    VALUES (NEW.organization_id, v_fingerprint, NEW.service, NEW.error_type, v_normalized, '', NEW.level,
            'unresolved', NEW.occurred_at, NEW.occurred_at, 1, 0)
    ON CONFLICT (organization_id, fingerprint) DO UPDATE SET
      occurrence_count = p.occurrence_count + 1,
      first_seen = least(p.first_seen, EXCLUDED.first_seen),
      last_seen = greatest(p.last_seen, EXCLUDED.last_seen),
      level = CASE WHEN array_position(ARRAY['info', 'warning', 'error', 'critical'], EXCLUDED.level)
                        > array_position(ARRAY['info', 'warning', 'error', 'critical'], p.level)
                   THEN EXCLUDED.level ELSE p.level END
    RETURNING p.id INTO v_pattern;
    NEW.pattern_id := v_pattern;
  END IF;
  IF NEW.wedding_context IS NULL THEN
    NEW.wedding_context := wedding_context(NEW.organization_id, org_local_date(NEW.organization_id, NEW.occurred_at));
  END IF;
  NEW.error_message := NEW.message;
  NEW.created_at := NEW.received_at;
  NEW.is_wedding_day := coalesce((NEW.wedding_context->>'is_wedding_day')::boolean, false);
  NEW.severity := CASE NEW.level
                    WHEN 'info' THEN 'low' WHEN 'warning' THEN 'medium' WHEN 'error' THEN 'high'
                    ELSE CASE WHEN NEW.is_wedding_day THEN 'wedding_emergency' ELSE 'critical' END
                  END::error_severity_type;
  RETURN NEW;
END $$;
