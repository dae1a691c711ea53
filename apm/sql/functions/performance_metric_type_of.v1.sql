-- performance_metric_type_of(metric_name text, unit text) -> performance_metric_type (issue 18 §2)
--
-- What a metric point of apm_metrics measures, in WS-259's performance_metric_type, from its name
-- (case-insensitive, first match wins) and unit; NULL when the name says none of them:
--   web_vitals.*                                        core_web_vitals
--   db / database / sql / query, with a time or ms     database_query_time
--   cpu                                                 cpu_usage
--   mem / memory / rss / heap                           memory_usage
--   error rate / errors / failures / 5xx                error_rate
--   duration / latency / response / time, or unit ms/s  response_time
--   throughput / requests / rps / count                 throughput
CREATE FUNCTION performance_metric_type_of(metric_name text, unit text) RETURNS performance_metric_type
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN metric_name ILIKE 'web\_vitals.%' THEN 'core_web_vitals'
    WHEN metric_name ~* '(^|[._])(db|database|sql|query|queries)([._]|$)'
         AND (metric_name ~* '(duration|latency|time|_ms$|\.ms$)' OR unit IN ('ms', 's')) THEN 'database_query_time'
    WHEN metric_name ~* 'cpu' THEN 'cpu_usage'
    WHEN metric_name ~* '(mem|memory|rss|heap)' THEN 'memory_usage'
    WHEN metric_name ~* '(error|errors|failure|failures|5xx)' THEN 'error_rate'
    WHEN metric_name ~* '(duration|latency|response|time)' OR unit IN ('ms', 's') THEN 'response_time'
    WHEN metric_name ~* '(throughput|request|requests|rps|count|total)' THEN 'throughput'
  END::performance_metric_type
$$;
