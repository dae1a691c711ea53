-- Buffer-cache hit ratios (0..1) of this database's user tables (heap) and
-- indexes since the statistics were last reset: hit / (hit + read); NULL
-- when nothing was read yet. Same formulas as PgHero's table_hit_rate and
-- index_hit_rate.
CREATE FUNCTION monitoring_cache_hit_ratios(
  OUT table_hit_ratio double precision, OUT index_hit_ratio double precision
)
LANGUAGE sql STABLE AS $$
  SELECT (SELECT sum(heap_blks_hit)::double precision / NULLIF(sum(heap_blks_hit + heap_blks_read), 0)
          FROM pg_statio_user_tables WHERE app_is_platform()),
         (SELECT sum(idx_blks_hit)::double precision / NULLIF(sum(idx_blks_hit + idx_blks_read), 0)
          FROM pg_statio_user_indexes WHERE app_is_platform())
$$;
