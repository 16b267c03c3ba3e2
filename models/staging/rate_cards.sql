SELECT r.effective_from, r.market, lower(r.category) AS category, upper(r.currency) AS currency, r.rate,
       coalesce(r.volume_from, 0) AS volume_from, r.volume_to, a.file_path AS source_file
FROM {{ source('raw', 'rate_cards') }} r LEFT JOIN {{ source('raw', 'load_audit') }} a USING (load_id)
QUALIFY row_number() OVER (PARTITION BY r.effective_from, r.market, lower(r.category), upper(r.currency), coalesce(r.volume_from, 0)
                           ORDER BY r.load_id DESC, r.line_no DESC) = 1
ORDER BY effective_from, market, category, currency, volume_from
