-- payrun schema, version 4: amounts of token base units up to 2^256 - 1
-- (ERC-20's uint256): tokens usually have 18 decimals, so a 42-token pool
-- is 4.2 x 10^19 base units, past bigint.  numeric(78, 0) holds every
-- uint256; the domain keeps what it holds within 0 .. 2^256 - 1.
-- payout_pools.pool is in tokens: with token_decimals it may have a
-- fraction, so it is a plain non-negative numeric.

CREATE DOMAIN payrun_amount AS numeric(78, 0)
    CHECK (VALUE >= 0 AND VALUE <= 115792089237316195423570985008687907853269984665640564039457584007913129639935);

ALTER TABLE payout_ledger
    ALTER COLUMN base_amount TYPE payrun_amount,
    ALTER COLUMN forfeited_amount TYPE payrun_amount,
    ALTER COLUMN payout_amount TYPE payrun_amount;

ALTER TABLE payout_stream_totals
    ALTER COLUMN pool TYPE payrun_amount,
    ALTER COLUMN paid TYPE payrun_amount,
    ALTER COLUMN forfeited TYPE payrun_amount,
    ALTER COLUMN unallocated TYPE payrun_amount;

ALTER TABLE payout_pools
    ALTER COLUMN pool TYPE numeric;
