"""Issue 11, privacy: no masked output shows a raw message id, a customer number or a number in free text.

Sources: a wamid is base64 of an encoding that holds the recipient's number (observed in Meta's webhook
examples, "Webhooks: messages" reference, 2025, and stated by the issue); HMAC-SHA256 as RFC 2104 (Feb
1997) defines it, computed independently here with Python's hmac module.
"""
import base64
import csv
import hashlib
import hmac
import re
from datetime import date

import duckdb

from pipelines.compliance import export_audit
from pipelines.masking import install_masking
from pipelines.warehouse import open_warehouse


def letters(hex_digest: str) -> str:
    return hex_digest.translate(str.maketrans("0123456789", "ghijklmnop"))


def test_masked_id_is_hmac_sha256_with_the_warehouses_own_secret(tmp_path):
    with open_warehouse(tmp_path / "a.duckdb") as conn:
        install_masking(conn)
        secret = conn.execute("SELECT secret FROM raw.masking_key").fetchone()[0]
        wamid = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ4QUY2QjNEMDk5RjVFRDhFMwA="
        masked = conn.execute("SELECT masked_id(?)", [wamid]).fetchone()[0]
    expected = "m_" + letters(hmac.new(secret.encode(), wamid.encode(), hashlib.sha256).hexdigest()[:32])
    assert masked == expected
    # Stable: the same warehouse, another connection (read-only, as exports open it), the same hash.
    conn = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    install_masking(conn)
    assert conn.execute("SELECT masked_id(?)", [wamid]).fetchone()[0] == expected
    conn.close()
    # Another warehouse has another secret.
    with open_warehouse(tmp_path / "b.duckdb") as other:
        install_masking(other)
        assert other.execute("SELECT masked_id(?)", [wamid]).fetchone()[0] != expected


def test_masked_text_hides_wamids_and_numbers_but_keeps_the_words(tmp_path):
    with open_warehouse(tmp_path / "a.duckdb") as conn:
        install_masking(conn)
        text = "opt-in via reply wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ4 from +5511987654321 on 2026-10-01"
        masked, one = conn.execute("SELECT masked_text(?), masked_id('wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ4')",
                                   [text]).fetchone()
    assert masked == f"opt-in via reply {one} from ******21 on 2026-10-01"


def _decoded_numbers(message_id: str) -> str:
    if not message_id.startswith("wamid."):
        return ""  # an On-Premises id
    payload = message_id.split(".", 1)[1]
    return base64.b64decode(payload + "=" * (-len(payload) % 4)).decode("latin-1")


def test_the_masked_audit_export_leaks_no_message_id_or_number(loaded, tmp_path):
    out1, out2, plain = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "plain.csv"
    export_audit(loaded, date(2025, 6, 1), date(2026, 11, 30), [], out1)
    export_audit(loaded, date(2025, 6, 1), date(2026, 11, 30), [], out2)
    export_audit(loaded, date(2025, 6, 1), date(2026, 11, 30), [], plain, unmasked=True)
    conn = duckdb.connect(str(loaded), read_only=True)
    ids, customers = zip(*conn.execute("SELECT message_id, customer_id FROM marts.optin_audit").fetchall())
    conn.close()
    text = out1.read_text()
    assert len(ids) > 50
    # Meta's wamids hold the recipient's number: the unmasked export shows them, which is why masking must not.
    assert sum(1 for m, c in zip(ids, customers) if c.lstrip("+") in _decoded_numbers(m)) > len(ids) // 2
    assert "wamid." not in text
    assert not [c for c in set(customers) if c.lstrip("+") in text]
    # every cell on its own (joined cells would make "131050" + "2025-..." look like a number)
    assert not [v for row in csv.DictReader(out1.open()) for k, v in row.items()
                if k not in ("waba_id", "phone_number_id") and re.search(r"[0-9]{8,}", v)]
    rows1, rows2 = list(csv.DictReader(out1.open())), list(csv.DictReader(out2.open()))
    assert [r["message_id"] for r in rows1] == [r["message_id"] for r in rows2]          # stable across exports
    assert len({r["message_id"] for r in rows1}) == len(set(ids))                        # still one per message
    assert {r["message_id"] for r in csv.DictReader(plain.open())} == set(ids)           # --unmasked keeps them


def test_the_quality_page_masks_example_rows(tmp_path):
    from pipelines.quality.results import ensure_results_table
    from pipelines.reports.quality import content

    with open_warehouse(tmp_path / "w.duckdb") as conn:
        ensure_results_table(conn)
        conn.execute("INSERT INTO marts.data_quality_results VALUES ('message_id_unique', 'marts/message_ledger', 'critical', "
                     "'sql', 'd', 'r1', now(), false, '2 found; e.g. wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ4, +5511987654321', 'x')")
        page = str(content(conn))
    assert "wamid." not in page and "5511987654321" not in page and "******21" in page
