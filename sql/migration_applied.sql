SELECT name FROM payrun_schema_migrations WHERE version = $1::integer
