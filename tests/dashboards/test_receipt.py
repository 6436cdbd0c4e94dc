"""A clean upload gets a receipt on the workspace instead of a feedback workbook (issue 18 item 3)."""

from dashboards.workspace_data import receipt_line


def test_a_clean_upload_gets_a_receipt_in_the_viewers_language():
    up = {"result_status": "accepted", "values_loaded": 12, "values_quarantined": 0, "problems": []}
    assert receipt_line(up) == "回执：已接收，12 个数值全部入库，无需修改。"
    assert receipt_line(up, "en") == "Receipt: accepted, all 12 values loaded; nothing to fix."


def test_an_upload_with_problems_gets_no_receipt():
    base = {"result_status": "accepted", "values_loaded": 12, "values_quarantined": 0, "problems": []}
    assert receipt_line({**base, "result_status": "partial"}) is None
    assert receipt_line({**base, "result_status": "rejected", "values_loaded": 0}) is None
    assert receipt_line({**base, "values_quarantined": 1}) is None
    assert receipt_line({**base, "problems": [{"cell": "B3"}]}) is None
    assert receipt_line({**base, "feedback_path": "511923/sthjj/a_反馈.xlsx"}) is None
    assert receipt_line({"result_status": None}) is None
