-- Is $1 a time zone (or an abbreviation) PostgreSQL knows?
SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)
    OR EXISTS (SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = $1)
