"""The labeled data of the three tasks: sources, label mapping, splits, de-duplication, errors.

Every test but the last builds a small fake ``datasets`` tree (the real folder, file and key names,
texts written here); the last loads the real shared copy when it is present.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from classifiers.data import (
    BENIGN_SOURCES,
    DEFAULT_ROOT,
    TASKS,
    DatasetFormatError,
    Example,
    benign_dev,
    combine_split,
    data_files,
    hash_split,
    load_examples,
    load_labeled_data,
    main,
    normalise,
    register_files,
    summary,
    texts_labels,
)

CED = "ced_weibo_rumor/all.jsonl"
EANN = "eann_weibo_rumor/train.jsonl"
COLD_TRAIN = "cold/train.jsonl"
COLD_DEV = "cold/dev.jsonl"
SWSR = "swsr/all.jsonl"
TELECOM = "telecom_fraud_texts_5/train.jsonl"
THUCNEWS = "thucnews_headlines/dev.jsonl"
WAIMAI = "waimai_10k_reviews/all.jsonl"
TELEANTIFRAUD = "teleantifraud_dialogues/data.jsonl"
FRAUD_R1 = "fraud_r1_zh/generated.jsonl"
TOXIREWRITE = "toxirewrite_cn/data.jsonl"
BENIGN_AI = "benign_ai_zh/data.jsonl"


@pytest.fixture(autouse=True)
def _no_register_texts(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake trees stand alone: the repository's own register texts are not read (but by the last test)."""
    monkeypatch.setattr("classifiers.data.REGISTER", tmp_path_factory.mktemp("no-register"))


def text_in_split(prefix: str, split: str, skip: int = 0) -> str:
    """The ``skip``-th text ``prefix + number`` that the hash rule puts in ``split`` and that the combine
    rule would leave where it is."""
    found = (
        f"{prefix}{i}"
        for i in range(10_000)
        if hash_split(normalise(f"{prefix}{i}")) == split
        and combine_split(normalise(f"{prefix}{i}"), "train") == "train"
    )
    for _ in range(skip):
        next(found)
    return next(found)


def rumor_row(text: str, label: int, source: str = "CED") -> dict[str, Any]:
    return {"text": text, "label": label, "source": source, "id": "1", "time": 1347334462}


def cold_row(text: str, label: int) -> dict[str, Any]:
    return {"text": text, "label": label, "source": "COLD", "topic": "region", "id": "7"}


def swsr_row(text: str, label: int) -> dict[str, Any]:
    return {"text": text, "label": label, "source": "SWSR", "category": "MA", "target": "G", "weibo_id": "w1"}


def telecom_row(text: str, fine_label: int) -> dict[str, Any]:
    return {
        "text": text,
        "label": int(fine_label != 0),
        "source": "Telecom_Fraud_Texts_5",
        "fine_label": fine_label,
        "fine_label_name": "x",
        "impersonation": fine_label in (1, 3, 4),
        "original_label": str(fine_label),
    }


def benign_row(text: str, source: str) -> dict[str, Any]:
    return {"text": text, "label": 0, "source": source, "topic": "sports"}


DEFAULT_FILES: dict[str, list[dict[str, Any]]] = {
    CED: [
        rumor_row("网传本市明天全城停水三天，请大家囤水", 1),
        rumor_row("市气象台发布今日天气预报：多云转晴", 0),
    ],
    EANN: [
        rumor_row("转发求证：某超市的鸡蛋都是人造的", 1, "EANN-Weibo(Jin2017)"),
        rumor_row("新华社：全国秋粮收购工作顺利开展", 0, "EANN-Weibo(Jin2017)"),
    ],
    COLD_TRAIN: [cold_row("那个地方的人个个都是骗子", 1), cold_row("各地的人都有好有坏，不能一概而论", 0)],
    COLD_DEV: [cold_row("这种人就不配活在城里", 1), cold_row("我觉得大家应该互相尊重", 0)],
    SWSR: [swsr_row("女人就该待在家里做饭", 1), swsr_row("男女都应该有平等的工作机会", 0)],
    TELECOM: [
        telecom_row("【某某银行】您的账单已出，请按时还款。", 0),
        telecom_row("我是市公安局的民警，你的账户涉嫌洗钱，请把钱转到安全账户。", 1),
        telecom_row("无抵押低息贷款，当天放款，先交五百元手续费。", 2),
        telecom_row("您好，我是某宝客服，您的订单出了问题，需要退款，请提供验证码。", 3),
        telecom_row("小王，我是你们张总，换了新号码，明天来我办公室，先帮我转一笔钱。", 4),
    ],
    THUCNEWS: [
        benign_row("国足客场两球击败对手", "THUCNews-headlines"),
        benign_row("央行发布三季度货币政策报告", "THUCNews-headlines"),
    ],
    WAIMAI: [
        benign_row("送餐很快，味道不错", "waimai_10k"),
        benign_row("菜有点凉了，下次不点了", "waimai_10k"),
    ],
    TELEANTIFRAUD: [],
    FRAUD_R1: [],
    TOXIREWRITE: [],
    BENIGN_AI: [],
}


def write_datasets(root: Path, **files: list[dict[str, Any]] | str) -> Path:
    """A datasets tree under ``root``: DEFAULT_FILES, with a file replaced by rows or raw text.

    Keyword names are the relative paths with "/" and "." replaced by "_", e.g. ``swsr_all_jsonl``.
    """
    contents: dict[str, list[dict[str, Any]] | str] = dict(DEFAULT_FILES)
    for relative in DEFAULT_FILES:
        key = relative.replace("/", "_").replace(".", "_")
        if key in files:
            contents[relative] = files.pop(key)
    assert not files, f"unknown files {sorted(files)}"
    for relative, content in contents.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, "utf-8")
        else:
            path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in content), "utf-8")
    return root


def by_text(examples: list[Example], task: str) -> dict[str, Example]:
    return {e.text: e for e in examples if e.task == task}


def test_telecom_fine_labels_map_to_impersonation_labels(tmp_path: Path) -> None:
    examples = load_examples(write_datasets(tmp_path))
    telecom = [e for e in examples if e.source == "Telecom_Fraud_Texts_5"]
    fine_by_text = {row["text"]: row["fine_label"] for row in DEFAULT_FILES[TELECOM]}
    # Loan fraud (2) is fraud that poses as no one: a hard negative for impersonation.
    assert {fine_by_text[e.text]: e.label for e in telecom} == {0: 0, 1: 1, 2: 0, 3: 1, 4: 1}
    assert {e.task for e in telecom} == {"impersonation"}


def test_cold_keeps_its_official_split(tmp_path: Path) -> None:
    train_text = text_in_split("那个省的人说话太难听了", "dev")
    dev_text = text_in_split("某些地区的人就是素质低", "train")
    root = write_datasets(
        tmp_path, cold_train_jsonl=[cold_row(train_text, 1)], cold_dev_jsonl=[cold_row(dev_text, 1)]
    )
    vulgar = by_text(load_examples(root), "vulgar")
    assert vulgar[train_text].split == "train"
    assert vulgar[dev_text].split == "dev"


def test_hash_split_is_deterministic_and_sends_about_a_fifth_to_dev() -> None:
    texts = [f"第{i}条测试短信：您的快递已到达驿站" for i in range(5000)]
    splits = [hash_split(normalise(text)) for text in texts]
    assert splits == [hash_split(normalise(text)) for text in texts]
    assert set(splits) == {"train", "dev"}
    assert 0.17 < splits.count("dev") / len(splits) < 0.23


def test_normalised_text_ignores_width_whitespace_and_case() -> None:
    assert normalise("  今天 天气\u3000很好 ＡＢＣ\n") == "今天天气很好abc"
    assert hash_split(normalise("今天 天气很好ＡＢＣ")) == hash_split(normalise("今天天气很好abc"))


def test_hash_split_sources_use_the_normalised_text(tmp_path: Path) -> None:
    texts = [f"  第{i}条 微博：女生学不好理科 " for i in range(30)]
    root = write_datasets(tmp_path, swsr_all_jsonl=[swsr_row(text, 1) for text in texts])
    vulgar = by_text(load_examples(root), "vulgar")
    for text in texts:
        assert vulgar[text.strip()].split == combine_split(normalise(text), hash_split(normalise(text)))


def test_loading_twice_gives_the_same_examples(tmp_path: Path) -> None:
    root = write_datasets(tmp_path)
    assert load_examples(root) == load_examples(root)


def test_benign_texts_join_every_task_as_negatives(tmp_path: Path) -> None:
    examples = load_examples(write_datasets(tmp_path))
    for row in DEFAULT_FILES[THUCNEWS] + DEFAULT_FILES[WAIMAI]:
        copies = [e for e in examples if e.text == row["text"]]
        assert sorted(e.task for e in copies) == sorted(TASKS)
        assert {e.label for e in copies} == {0}
        assert {e.source for e in copies} == {row["source"]}
        assert {e.split for e in copies} == {hash_split(normalise(row["text"]))}


def test_a_train_text_that_is_also_in_dev_is_removed_from_train(tmp_path: Path) -> None:
    swsr_dev_text = text_in_split("女司机开车就是不行", "dev")
    root = write_datasets(
        tmp_path,
        cold_train_jsonl=[
            cold_row("这种人 就不配活在城里", 1),  # the COLD dev text, spaced differently
            cold_row(swsr_dev_text.upper() + " ", 1),
            cold_row("外地人也是人，别歧视", 0),
        ],
        swsr_all_jsonl=[swsr_row(swsr_dev_text, 1)],
    )
    data = load_labeled_data(root)
    vulgar = [e for e in data.examples if e.task == "vulgar"]
    assert [e.text for e in vulgar if e.source == "COLD" and e.split == "train"] == ["外地人也是人，别歧视"]
    assert [e.text for e in vulgar if e.source == "SWSR"] == [swsr_dev_text]
    assert data.removed["vulgar"]["train_overlaps_dev"] == 2


def test_conflicting_labels_are_dropped_and_duplicates_keep_the_first(tmp_path: Path) -> None:
    root = write_datasets(
        tmp_path,
        ced_weibo_rumor_all_jsonl=[
            rumor_row("紧急扩散：某小区井水有毒", 1),
            rumor_row("网传高铁明天起全部停运", 1),
            rumor_row("今日全省高考顺利结束", 0),
        ],
        eann_weibo_rumor_train_jsonl=[
            rumor_row("紧急扩散：某小区 井水有毒", 0, "EANN-Weibo(Jin2017)"),
            rumor_row("网传高铁明天起全部停运", 1, "EANN-Weibo(Jin2017)"),
        ],
    )
    data = load_labeled_data(root)
    rumor = [e for e in data.examples if e.task == "rumor" and e.source not in BENIGN_SOURCES]
    assert [(e.text, e.source) for e in rumor] == [
        ("网传高铁明天起全部停运", "CED"),
        ("今日全省高考顺利结束", "CED"),
    ]
    assert data.removed["rumor"]["conflicting_label"] == 2
    assert data.removed["rumor"]["duplicate"] == 1


def test_blank_lines_and_empty_texts_are_skipped(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps(row, ensure_ascii=False) for row in DEFAULT_FILES[WAIMAI])
    content = "\n" + lines + "\n   \n" + json.dumps(benign_row(" \u3000 ", "waimai_10k")) + "\n"
    data = load_labeled_data(write_datasets(tmp_path, waimai_10k_reviews_all_jsonl=content))
    waimai = [e for e in data.examples if e.source == "waimai_10k"]
    assert len(waimai) == len(DEFAULT_FILES[WAIMAI]) * len(TASKS)
    assert {task: counts["empty_text"] for task, counts in data.removed.items()} == dict.fromkeys(TASKS, 1)


@pytest.mark.parametrize(
    ("relative", "bad_line", "message"),
    [
        (SWSR, '{"text": "写了一半的', "not valid JSON"),
        (SWSR, "[1, 2]", "expected a JSON object"),
        (SWSR, '{"label": 1}', "'text' must be a string"),
        (SWSR, '{"text": "标签不对", "label": 2}', "'label' must be 0 or 1"),
        (SWSR, '{"text": "标签不对", "label": true}', "'label' must be 0 or 1"),
        (TELECOM, '{"text": "未知类别", "label": 1, "fine_label": 7}', "'fine_label' must be one of"),
    ],
)
def test_a_malformed_line_names_its_file_and_line(
    tmp_path: Path, relative: str, bad_line: str, message: str
) -> None:
    key = relative.replace("/", "_").replace(".", "_")
    good_line = json.dumps(DEFAULT_FILES[relative][0], ensure_ascii=False)
    root = write_datasets(tmp_path, **{key: good_line + "\n" + bad_line + "\n"})
    with pytest.raises(DatasetFormatError, match=message) as raised:
        load_examples(root)
    assert f"{root / relative}:2:" in str(raised.value)


def test_data_files_are_the_files_read(tmp_path: Path) -> None:
    root = write_datasets(tmp_path)
    assert data_files(root) == sorted(root / relative for relative in DEFAULT_FILES)


def test_summary_texts_labels_and_benign_dev(tmp_path: Path) -> None:
    benign_texts = [text_in_split("今天的外卖很好吃", "dev"), text_in_split("今天的外卖很好吃", "train")]
    root = write_datasets(
        tmp_path,
        cold_dev_jsonl=[cold_row("这种人就不配活在城里", 1), cold_row("我觉得大家应该互相尊重", 0)],
        swsr_all_jsonl=[],
        thucnews_headlines_dev_jsonl=[],
        waimai_10k_reviews_all_jsonl=[benign_row(text, "waimai_10k") for text in benign_texts],
    )
    examples = load_examples(root)
    counts = summary(examples)
    assert list(counts) == list(TASKS)
    assert counts["vulgar"]["dev"] == {
        "n": 3,
        "positives": 1,
        "negatives": 2,
        "by_source": {"COLD": {"0": 1, "1": 1}, "waimai_10k": {"0": 1, "1": 0}},
    }
    texts, labels = texts_labels(examples, "vulgar", "dev")
    assert texts == ["这种人就不配活在城里", "我觉得大家应该互相尊重", benign_texts[0]]
    assert labels == [1, 0, 0]
    assert [(e.text, e.task) for e in benign_dev(examples, "rumor")] == [(benign_texts[0], "rumor")]
    with pytest.raises(ValueError, match="unknown task"):
        benign_dev(examples, "spam")
    with pytest.raises(ValueError, match="unknown split"):
        texts_labels(examples, "rumor", "test")


def test_main_prints_the_counts_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--root", str(write_datasets(tmp_path))])
    printed = capsys.readouterr().out
    assert "| task | split | source | label 0 | label 1 | total |" in printed
    assert "| vulgar | dev | COLD | 1 | 1 | 2 |" in printed
    assert "train_overlaps_dev" in printed


def test_new_sets_map_to_the_categories_they_label(tmp_path: Path) -> None:
    root = write_datasets(
        tmp_path,
        teleantifraud_dialogues_data_jsonl=[
            {"text": "您好，我是银行客服，您的账户存在风险", "label": 1, "scenario": "银行诈骗"},
            {"text": "欢迎使用订餐服务，请问想吃什么", "label": 0, "scenario": "订餐服务"},
        ],
        fraud_r1_zh_generated_jsonl=[
            {"text": "【公安局】您涉嫌一起案件，请配合调查", "label": 1, "fraud_category": "impersonation"},
            {"text": "高薪兼职日结，先交押金", "label": 1, "fraud_category": "fake job posting"},
        ],
        toxirewrite_cn_data_jsonl=[{"text": "你这个傻子", "label": 1}, {"text": "你这个人", "label": 0}],
        benign_ai_zh_data_jsonl=[{"text": "好的，以下是番茄炒蛋的做法", "label": 0}],
    )
    labels = {(e.text, e.task): e.label for e in load_examples(root)}
    assert labels["您好，我是银行客服，您的账户存在风险", "impersonation"] == 1
    # a scam call is neither a rumor nor vulgar: it teaches those heads not to fire on scams
    assert labels["您好，我是银行客服，您的账户存在风险", "rumor"] == 0
    assert labels["【公安局】您涉嫌一起案件，请配合调查", "impersonation"] == 1
    # a fake job poses as no one: no impersonation label either way
    assert ("高薪兼职日结，先交押金", "impersonation") not in labels
    assert labels["高薪兼职日结，先交押金", "vulgar"] == 0
    assert labels["你这个傻子", "vulgar"] == 1 and ("你这个傻子", "rumor") not in labels
    assert {t for (text, t), label in labels.items() if text.startswith("好的")} == set(TASKS)


def test_register_texts_keep_their_split_and_labels(tmp_path: Path) -> None:
    register = tmp_path / "register"
    for split, text in (("train", "【ETC】您的卡已失效，点击链接认证"), ("dev", "网传明天全市停电")):
        (register / split).mkdir(parents=True)
        row = {
            "text": text,
            "rumor": int(split == "dev"),
            "vulgar": 0,
            "impersonation": int(split == "train"),
        }
        (register / split / "a.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", "utf-8")
    assert [f.split for f in register_files(register)] == ["train", "dev"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("classifiers.data.REGISTER", register)
        examples = load_examples(write_datasets(tmp_path / "datasets"))
    mine = {(e.text, e.task): (e.split, e.label) for e in examples if e.source == "huiyan-register"}
    assert mine[("网传明天全市停电", "rumor")] == ("dev", 1)
    assert mine[("网传明天全市停电", "impersonation")] == ("dev", 0)
    assert mine[("【ETC】您的卡已失效，点击链接认证", "impersonation")][1] == 1


def test_combine_split_takes_about_15_percent_of_train_and_nothing_else() -> None:
    keys = [normalise(f"第{i}条：您的快递已到达驿站") for i in range(5000)]
    moved = [combine_split(key, "train") for key in keys]
    assert set(moved) == {"train", "combine"}
    assert 0.12 < moved.count("combine") / len(moved) < 0.18
    assert {combine_split(key, "dev") for key in keys} == {"dev"}


@pytest.fixture(scope="module")
def real_examples() -> list[Example]:
    if not DEFAULT_ROOT.is_dir():
        pytest.skip(f"shared datasets not present at {DEFAULT_ROOT}")
    return load_examples(DEFAULT_ROOT)


def test_real_data_counts_are_plausible(real_examples: list[Example]) -> None:
    counts: Counter[tuple[str, str, str]] = Counter((e.task, e.split, e.source) for e in real_examples)
    # COLD keeps its official split: all 6,413 dev rows but a same-text duplicate or two, and a few whose
    # text ToxiRewriteCN labels otherwise (conflicting labels drop every copy).
    cold_dev_rows = (DEFAULT_ROOT / COLD_DEV).read_text("utf-8").splitlines()
    distinct_cold_dev = {normalise(json.loads(line)["text"]) for line in cold_dev_rows}
    assert len(cold_dev_rows) == 6413
    assert len(distinct_cold_dev) - 10 <= counts["vulgar", "dev", "COLD"] <= len(distinct_cold_dev)
    cold_train = counts["vulgar", "train", "COLD"] + counts["vulgar", "combine", "COLD"]
    assert 25_200 < cold_train <= 25_676
    assert 0.13 < counts["vulgar", "combine", "COLD"] / cold_train < 0.17
    # Hash-split sets send about a fifth to dev.
    for task, source in [
        ("rumor", "CED"),
        ("rumor", "EANN"),
        ("vulgar", "SWSR"),
        ("impersonation", "Telecom_Fraud_Texts_5"),
        ("impersonation", "TeleAntiFraud"),
        ("rumor", "benign_ai_zh"),
    ]:
        rest = counts[task, "train", source] + counts[task, "combine", source]
        share = counts[task, "dev", source] / (counts[task, "dev", source] + rest)
        assert 0.17 < share < 0.23, (task, source, share)
    # The benign sets join every task with the same split.
    for split in ("train", "combine", "dev"):
        benign = [sum(counts[task, split, s] for s in BENIGN_SOURCES) for task in TASKS]
        assert len(set(benign)) == 1
    benign_dev_n = sum(counts["vulgar", "dev", s] for s in BENIGN_SOURCES)
    assert 9_500 < benign_dev_n < 10_800  # a fifth of 9,991 headlines, 11,987 reviews, 28,931 answers
    positives = Counter(e.task for e in real_examples if e.label == 1 and e.source != "huiyan-register")
    assert 3_000 < positives["rumor"] <= 1_499 + 1_829  # less the CED/EANN overlap
    for task in TASKS:
        train = {normalise(e.text) for e in real_examples if e.task == task and e.split != "dev"}
        dev = {normalise(e.text) for e in real_examples if e.task == task and e.split == "dev"}
        assert not train & dev, task
    assert all(path.is_file() for path in data_files(DEFAULT_ROOT))
