-- A partition's index attached to its parent's ({index} and {partition_index}:
-- qualified names), for 'payrun db indexes' on a partitioned probe table
-- (migrate.c).  It locks the two indexes and the tables briefly; once the
-- parent's index has every partition's, PostgreSQL marks it valid.
ALTER INDEX {index} ATTACH PARTITION {partition_index}
