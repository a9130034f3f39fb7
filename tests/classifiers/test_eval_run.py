"""``huiyan eval`` input: the category of each labelled row, and benign rows for false-positive rates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from classifiers.eval_run import rows_from_file


def _write(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def test_category_comes_from_the_source_and_benign_sets_count_for_every_category(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            {"text": "这群人真是没救了", "label": 1, "source": "ToxiCN"},
            {"text": "网传某地地震死亡万人", "label": 1, "source": "CHECKED"},
            {"text": "体育新闻：国足今晚出战", "label": 0, "source": "THUCNews-headlines"},
        ],
    )
    rows = rows_from_file(path, None)
    assert [(r.task, r.label, r.benign) for r in rows[:2]] == [("vulgar", 1, False), ("rumor", 1, False)]
    assert sorted(r.task for r in rows[2:]) == ["impersonation", "rumor", "vulgar"]
    assert all(r.benign and r.label == 0 for r in rows[2:])


def test_telecom_rows_use_the_fine_label_for_impersonation(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            {"text": "我是公安局的", "label": 1, "source": "Telecom_Fraud_Texts_5", "fine_label": 1},
            {"text": "低息贷款秒到账", "label": 1, "source": "Telecom_Fraud_Texts_5", "fine_label": 2},
            {"text": "您的快递已签收", "label": 0, "source": "Telecom_Fraud_Texts_5", "fine_label": 0},
        ],
    )
    assert [(r.task, r.label) for r in rows_from_file(path, None)] == [
        ("impersonation", 1),
        ("impersonation", 0),
        ("impersonation", 0),
    ]


def test_per_category_keys_and_explicit_task(tmp_path: Path) -> None:
    per_key = _write(
        tmp_path, [{"text": "某银行客服请您提供验证码", "rumor": 0, "vulgar": 0, "impersonation": 1}]
    )
    assert {(r.task, r.label) for r in rows_from_file(per_key, None)} == {
        ("rumor", 0),
        ("vulgar", 0),
        ("impersonation", 1),
    }
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"text": "一段文字", "label": 1, "source": "mystery"}) + "\n", "utf-8")
    assert [(r.task, r.label) for r in rows_from_file(other, "rumor")] == [("rumor", 1)]
    with pytest.raises(ValueError, match="cannot tell the category of source 'mystery'; pass --task"):
        rows_from_file(other, None)
