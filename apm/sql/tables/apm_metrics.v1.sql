-- apm_metrics: raw points, range-partitioned by recorded_at, one partition a day.
-- Every index leads with organization_id or a time column; the primary key
-- includes the partition key.
CREATE TABLE apm_metrics (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    organization_id uuid NOT NULL,
    service      varchar(100) NOT NULL,
    metric_name  varchar(200) NOT NULL,
    value        double precision NOT NULL,
    unit         varchar(20) NOT NULL DEFAULT '',
    tags         jsonb NOT NULL DEFAULT '{}'::jsonb,
    recorded_at  timestamptz NOT NULL,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT apm_metrics_pkey PRIMARY KEY (recorded_at, id)
) PARTITION BY RANGE (recorded_at);

CREATE INDEX idx_apm_metrics_org_service_metric_time
    ON apm_metrics (organization_id, service, metric_name, recorded_at);
CREATE INDEX idx_apm_metrics_ingested_at ON apm_metrics (ingested_at);
