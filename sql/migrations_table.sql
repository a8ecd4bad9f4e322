-- Which schema migrations are applied; created before the first one.
CREATE TABLE IF NOT EXISTS payrun_schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
