-- staging.phone_number_snapshots: one row per phone number per Business Manager snapshot time.
-- materialize: table
-- inputs: phone_number_snapshots
SELECT snapshot_at, waba_id, phone_number_id, display_phone_number, upper(quality_rating) AS quality_rating,
       messaging_limit, upper(status) AS status
FROM raw.phone_number_snapshots
QUALIFY row_number() OVER (PARTITION BY phone_number_id, snapshot_at ORDER BY load_id DESC, line_no) = 1
ORDER BY snapshot_at, phone_number_id
