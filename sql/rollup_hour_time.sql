-- Rolling up hour $1, last step: the milliseconds it took ($2).
UPDATE probe_rollup_hours SET roll_ms = $2::double precision WHERE hour = $1::timestamptz
