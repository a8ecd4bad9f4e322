INSERT INTO payrun_schema_migrations (version, name) VALUES ($1::integer, $2)
