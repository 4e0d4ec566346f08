"""The plan parser on small invented snippets: numbering styles, target forms, responsible-unit
forms, noise, decoding, refusals and the accountability check. The five real plans are pinned
in test_parse_seeds.py."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from plans import parse as parse_module
from plans.__main__ import main
from plans.errors import PlanError
from plans.model import Document, Dropped, Span, Target
from plans.parse import accountability, default_doc_id, number_uses, parse_file, parse_text
from plans.text import decode, squeeze

SEED_DIR = Path(__file__).resolve().parents[2] / "data" / "plans"

FRONT = (
    "某市人民政府关于印发某市绿色低碳发展行动方案的通知\n"
    "某政发〔2023〕5号\n\n"
    "各县（区）人民政府，市政府各部门：\n\n"
    "现将《某市绿色低碳发展行动方案》印发给你们，请认真贯彻执行。\n\n"
    "某市人民政府\n"
    "2023年3月1日\n\n"
    "为贯彻落实《某省人民政府办公厅关于印发某省绿色低碳发展实施方案的通知》和《某市“十四五”"
    "规划纲要》精神，结合我市实际，制定本方案。\n\n"
)


def doc_of(body: str, front: str = FRONT) -> Document:
    """A document of the given body under a small, complete front matter."""
    return parse_text(front + body, "t")


def targets_of(sentence: str) -> list[Target]:
    """The targets the parser finds in one measure made of the sentence."""
    d = doc_of(f"一、主要任务\n（一）推进节能减排。{sentence}（市发改委负责）\n")
    return d.node("t/一/一").targets


def brief(t: Target) -> tuple:
    return (t.indicator, t.comparator, t.value, t.unit, t.target_year, t.base_year, t.aspirational)


# -- numbering and hierarchy -----------------------------------------------------------------


def test_metadata_of_a_notice() -> None:
    d = doc_of("一、总体要求\n推进绿色发展，加强统筹，实施重点工程。\n")
    assert d.title == "某市绿色低碳发展行动方案"
    assert (d.issuer, d.number, d.date, d.status) == (
        "某市人民政府",
        "某政发〔2023〕5号",
        "2023-03-01",
        None,
    )
    # The notice that transmits a plan is unwrapped to the plan's own title.
    assert d.implements == ["某省绿色低碳发展实施方案", "某市“十四五”规划纲要"]
    assert d.preamble.startswith("某市人民政府关于印发") and "制定本方案" in d.preamble


def test_all_four_levels_with_stable_ids_and_headings() -> None:
    d = doc_of(
        "一、总体要求\n"
        "二、基本原则\n"
        "——坚持系统推进。统筹推进各项工作。\n"
        "——坚持重点突破。聚焦重点领域。\n"
        "三、重点任务\n"
        "（一）加快构建循环型工业体系。\n"
        "1.积极推行循环型生产方式。加快传统产业优化升级。\n"
        "2、全面推行重点产品绿色设计。引导企业使用环境友好型原料。\n"
        "（二）推动煤炭清洁高效利用。要立足以煤为主的基本市情，推进煤电改造。\n"
    )
    ids = [(n.id, n.level, n.heading) for n in d.walk()]
    assert ids == [
        ("t/一", 1, "总体要求"),
        ("t/二", 1, "基本原则"),
        ("t/二/—1", 4, "坚持系统推进"),
        ("t/二/—2", 4, "坚持重点突破"),
        ("t/三", 1, "重点任务"),
        ("t/三/一", 2, "加快构建循环型工业体系"),
        ("t/三/一/1", 3, "积极推行循环型生产方式"),
        ("t/三/一/2", 3, "全面推行重点产品绿色设计"),
        ("t/三/二", 2, "推动煤炭清洁高效利用"),
    ]
    node = d.node("t/三/二")
    assert node.text == "推动煤炭清洁高效利用。要立足以煤为主的基本市情，推进煤电改造。"
    assert d.raw[node.span.start : node.span.end].startswith("（二）推动")  # label is in the span
    assert node.path == ("三", "二") and node.label == "二"


def test_level_two_numbers_may_run_on_or_restart_but_not_jump() -> None:
    run_on = doc_of(
        "一、甲\n（一）推进甲。加强甲。\n（二）推进乙。加强乙。\n"
        "二、乙\n（三）推进丙。加强丙。\n（四）推进丁。实施丁。\n"
    )
    assert [n.id for n in run_on.walk() if n.level == 2] == [
        "t/一/一",
        "t/一/二",
        "t/二/三",
        "t/二/四",
    ]
    restart = doc_of("一、甲\n（一）推进甲。加强甲。\n二、乙\n（一）推进乙。实施乙。\n")
    assert [n.id for n in restart.walk() if n.level == 2] == ["t/一/一", "t/二/一"]
    # "（五）" out of sequence is text of the measure before it, not a heading.
    jump = doc_of("一、甲\n（一）推进甲，加强甲，\n（五）实施乙。\n")
    assert [n.id for n in jump.walk()] == ["t/一", "t/一/一"]
    assert "（五）实施乙" in jump.node("t/一/一").text


def test_a_bare_heading_line_is_the_heading_and_a_paragraph_of_its_own() -> None:
    d = doc_of("一、总体要求\n（一）指导思想\n以新发展理念为指导，推进绿色转型。\n")
    node = d.node("t/一/一")
    assert node.heading == "指导思想"
    assert node.text == "指导思想\n以新发展理念为指导，推进绿色转型。"


# -- targets ------------------------------------------------------------------------------


def test_single_target_with_deadline() -> None:
    (t,) = targets_of("到2025年，清洁能源发电装机占比达到50%。")
    assert brief(t) == ("清洁能源发电装机占比", "达到", 50.0, "%", 2025, None, False)
    assert t.text == "清洁能源发电装机占比达到50%"


def test_respectively_with_two_and_with_four_values() -> None:
    two = targets_of("到2025年，单位地区生产总值能源消耗和二氧化碳排放分别降低15%和18%。")
    assert [brief(t) for t in two] == [
        ("单位地区生产总值能源消耗", "降低", 15.0, "%", 2025, None, False),
        ("单位地区生产总值二氧化碳排放", "降低", 18.0, "%", 2025, None, False),
    ]
    four = targets_of(
        "化学需氧量、氨氮、氮氧化物、挥发性有机物重点工程减排量分别达到3472吨、35吨、8787吨和1754吨。"
    )
    assert [(t.indicator, t.value, t.unit) for t in four] == [
        ("化学需氧量重点工程减排量", 3472.0, "吨"),
        ("氨氮重点工程减排量", 35.0, "吨"),
        ("氮氧化物重点工程减排量", 8787.0, "吨"),
        ("挥发性有机物重点工程减排量", 1754.0, "吨"),
    ]
    points = targets_of("溶剂型工业涂料、油墨使用比例分别降低20个百分点、10个百分点。")
    assert [(t.indicator, t.value, t.unit) for t in points] == [
        ("溶剂型工业涂料使用比例", 20.0, "个百分点"),
        ("油墨使用比例", 10.0, "个百分点"),
    ]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("秸秆综合利用率稳定在90%以上。", ("秸秆综合利用率", "以上", 90.0, "%")),
        (
            "城市建成区基本淘汰35蒸吨/小时及以下燃煤锅炉。",
            ("城市建成区内 ≤35 蒸吨/小时 燃煤锅炉", "基本淘汰", 0.0, "台"),
        ),
        (
            "推进65蒸吨/小时以上的燃煤锅炉超低排放。",
            ("≥65 蒸吨/小时 燃煤锅炉", "推进超低排放", None, ""),
        ),
        ("新建数据中心电能利用效率不超过1.3。", ("新建数据中心电能利用效率", "不超过", 1.3, "")),
        ("铁路、水路货运量占比达到15%左右。", ("铁路、水路货运量占比", "左右", 15.0, "%")),
        ("城市公共供水管网漏损率低于10%。", ("城市公共供水管网漏损率", "低于", 10.0, "%")),
        (
            "对进水生化需氧量浓度低于100毫克/升的城市污水处理厂服务片区，实施管网系统化整治。",
            (
                "进水生化需氧量浓度 <100 毫克/升的城市污水处理厂服务片区",
                "实施管网系统化整治",
                None,
                "",
            ),
        ),
        ("新增生活污水处理能力90万吨/日。", ("生活污水处理能力", "新增", 90.0, "万吨/日")),
        ("建设1000个美丽宜居村。", ("美丽宜居村", "建设", 1000.0, "个")),
        ("农田灌溉水有效利用系数0.65。", ("农田灌溉水有效利用系数", "", 0.65, "")),
        ("单位GDP能耗1.0481吨标煤/万元。", ("单位GDP能耗", "", 1.0481, "吨标煤/万元")),
        (
            "单位GDP二氧化碳排放累计降低18%以上。",
            ("单位GDP二氧化碳排放累计降低", "以上", 18.0, "%"),
        ),
    ],
)
def test_target_forms(sentence: str, expected: tuple) -> None:
    (t,) = targets_of(sentence)
    assert (t.indicator, t.comparator, t.value, t.unit) == expected
    assert squeeze(t.text) == t.text and t.text in sentence


def test_a_size_threshold_is_the_scope_not_the_target() -> None:
    (t,) = targets_of("到2025年，城市建成区基本淘汰35蒸吨/小时及以下燃煤锅炉。")
    assert t.scope is not None and t.scope.text == "35蒸吨/小时及以下"
    assert t.reads() == "城市建成区内 ≤35 t/h 燃煤锅炉：基本淘汰 (0 台)"
    assert t.target_year == 2025
    (share,) = targets_of("完成全市80%以上钢铁产能超低排放改造。")
    assert share.scope is None and (share.comparator, share.value) == ("以上", 80.0)
    (plain,) = targets_of("城市公共供水管网漏损率低于10%。")
    assert plain.reads() == "城市公共供水管网漏损率：<10 %"


def test_aspiration_and_base_year() -> None:
    a, b = targets_of("力争到2025年，清洁能源发电装机占比达到50%，到2035年，发电量占比达到60%。")
    assert (a.target_year, a.aspirational) == (2025, True)
    assert (b.target_year, b.aspirational) == (2035, False)
    (c,) = targets_of("风电光伏装机力争达到3000万千瓦以上。")
    assert (c.comparator, c.value, c.unit, c.aspirational) == ("以上", 3000.0, "万千瓦", True)
    (d,) = targets_of("到2025年，能源消费强度持续降低，较2020年下降15.5%。")
    assert brief(d) == ("能源消费强度", "下降", 15.5, "%", 2025, 2020, False)
    assert d.text == "能源消费强度持续降低，较2020年下降15.5%"
    (e,) = targets_of("2022年力争创建100个美丽宜居村。")
    assert brief(e) == ("美丽宜居村", "创建", 100.0, "个", 2022, None, True)


def test_all_is_a_target_of_100_percent_and_a_deadline_covers_following_sentences() -> None:
    a, b = targets_of(
        "到2025年底，具备条件的省级以上园区全部实施循环化改造。园区污水集中处理率达到95%。"
    )
    assert brief(a) == (
        "具备条件的省级以上园区实施循环化改造",
        "全部",
        100.0,
        "%",
        2025,
        None,
        False,
    )
    assert b.target_year == 2025  # the next sentence of targets is still under 到2025年底
    (c,) = targets_of("推进工业炉窑改造。城市公共供水管网漏损率低于10%。")
    assert c.target_year is None  # no deadline stated: none invented


def test_numbers_that_are_not_targets() -> None:
    d = doc_of(
        "一、主要任务\n（一）推进节能减排。探索5G应用，控制PM2.5浓度，以5—9月为重点时段，开展“6·5”"
        "世界环境日宣传，落实《某办法》（某发〔2021〕33号），全市8个国考断面优良水体比例达到75%。"
        "（市发改委负责）\n"
    )
    assert [brief(t) for t in d.node("t/一/一").targets] == [
        ("全市8个国考断面优良水体比例", "达到", 75.0, "%", None, None, False)
    ]
    reasons = {u.context: u.reason for u in number_uses(d) if u.kind == "not a target"}
    assert len(reasons) == 9 and all(reasons.values())


def test_deadline_forms() -> None:
    d = doc_of(
        "一、主要任务\n（一）推进节能减排。到2025年完成甲，2025年底前完成乙，2025 年年底前完成丙，"
        "到2025年底完成丁，“十四五”时期完成戊，确保实现 2030 年前碳达峰，比2020年下降5%。"
        "（市发改委负责）\n"
    )
    got = [(x.text, x.year, x.end_of_year) for x in d.node("t/一/一").deadlines]
    assert got == [
        ("到2025年", 2025, False),
        ("2025年底前", 2025, True),
        ("2025年年底前", 2025, True),
        ("到2025年底", 2025, True),
        ("“十四五”时期", 2025, False),
        ("2030年前", 2030, False),
    ]  # 比2020年 is a base year, not a deadline
    for x in d.node("t/一/一").deadlines:
        assert squeeze(d.raw[x.span.start : x.span.end]) == x.text


# -- responsible units -----------------------------------------------------------------------


def units_of(body: str) -> list[tuple[str, list[tuple[str, bool]], bool]]:
    d = doc_of(body)
    return [(n.id, [(u.name, u.lead) for u in n.units], n.units_inherited) for n in d.walk()]


def test_unit_forms() -> None:
    got = units_of(
        "一、主要任务\n"
        "（一）推进甲。实施甲。〔责任单位：市发改委（市能源局）、市工信局〕\n"
        "（二）推进乙。实施乙。（市生态环境局、市住建局等按职责分工负责）\n"
        "（三）推进丙。实施丙。（市发改委、市生态环境局牵头，市工信局、市水利局等按职责分工负责）\n"
        "（四）推进丁。实施丁。(责任单位:市商务局、市城管执法局，各县区、高新区管委会按职责分工负责)\n"
        "（五）推进戊。实施戊。（市机关事务管理服务中心负责）\n"
        "（六）推进己。实施己。责任单位：市交通运输局、各县区按职责分工负责）\n"
    )
    assert got[1:] == [
        # One name per unit (plans/units.csv): 市发改委（市能源局） is 市发改委, 各县区 各县区政府.
        ("t/一/一", [("市发改委", False), ("市工信局", False)], False),
        ("t/一/二", [("市生态环境局", False), ("市住建局", False)], False),
        (
            "t/一/三",
            [("市发改委", True), ("市生态环境局", True), ("市工信局", False), ("市水利局", False)],
            False,
        ),
        (
            "t/一/四",
            [
                ("市商务局", False),
                ("市城管执法局", False),
                ("各县区政府", False),
                ("高新区管委会", False),
            ],
            False,
        ),
        ("t/一/五", [("市机关事务服务中心", False)], False),
        ("t/一/六", [("市交通运输局", False), ("各县区政府", False)], False),
    ]


def test_the_rule_that_adds_units_to_every_later_measure() -> None:
    got = units_of(
        "一、主要任务\n"
        "（一）推进甲。实施甲。〔市发改委等按职责分工负责，各县（市）区政府、开发区（园区）管委会"
        "负责落实。以下均需各县（市）区政府、开发区（园区）管委会落实，不再列出〕\n"
        "二、保障措施\n"
        "（二）推进乙。实施乙。〔责任单位：市工信局〕\n"
        "（三）推进丙。实施丙。〔责任单位：市财政局、开发区（园区）管委会〕\n"
    )
    # The text never says 牵头: each measure's first own unit leads (not a rule's units).
    assert got == [
        ("t/一", [], False),
        (
            "t/一/一",
            [("市发改委", True), ("各县（市）区政府", False), ("开发区（园区）管委会", False)],
            False,
        ),
        ("t/二", [], False),  # a heading above measures gets no units
        (
            "t/二/二",
            [("市工信局", True), ("各县（市）区政府", False), ("开发区（园区）管委会", False)],
            True,
        ),
        (
            "t/二/三",
            [("市财政局", True), ("开发区（园区）管委会", False), ("各县（市）区政府", False)],
            True,
        ),
    ]


# -- noise ------------------------------------------------------------------------------


def test_repeated_news_lead_is_dropped_with_its_reason() -> None:
    lead = (
        "\t\t某某网讯：近日，某市人民政府印发方案指出，推进煤电改造，"
        "到2025年，清洁能源占比达到50%。\n\n"
    )
    d = doc_of(
        "一、主要任务\n（一）推进煤电改造。到2025年，清洁能源占比达到50%。（市发改委负责）\n",
        lead + FRONT,
    )
    (dropped,) = [x for x in d.dropped if x.reason.startswith("repeated lead")]
    assert dropped.text.startswith("某某网讯") and "of" in dropped.reason
    assert d.title == "某市绿色低碳发展行动方案"
    assert len([t for n in d.walk() for t in n.targets]) == 1  # the lead's 50% is not a target
    assert accountability(d) == []


def test_watermark_markup_hard_breaks_and_stray_spaces() -> None:
    text = (
        "## 某市绿色低碳发展实施 方案\n\n"
        "为贯彻落实《某省实施意见》精神，制定本方案。\n\n"
        "### **一、总体要求**\n\n"
        "#### **（一）加强节能管理。**\n\n"
        "<p>推进节能改造&amp;提效，加强&nbsp;重点用能单位<br/>\n\n"
        "本文内容来自网络，由某网站搜集整理，如有任何异议请联系我们！\n\n"
        "监管，到 2025 年，单位 GDP 能耗下降 13.5%。（市发改委负责）\n"
    )
    d = parse_text(text, "t")
    node = d.node("t/一/一")
    assert d.title == "某市绿色低碳发展实施方案"
    assert (
        node.text == "加强节能管理。\n推进节能改造&提效，加强重点用能单位监管，"
        "到2025年，单位GDP能耗下降13.5%。（市发改委负责）"
    )
    assert [brief(t) for t in node.targets] == [
        ("单位GDP能耗", "下降", 13.5, "%", 2025, None, False)
    ]
    reasons = {x.reason.split(":")[0] for x in d.dropped}
    assert reasons == {"markup", "watermark", "whitespace"}
    assert len(node.spans) > 1  # the watermark and the markup are carved out of the node
    assert accountability(d) == []


def test_pdf_hard_wrap_with_blank_lines_is_joined() -> None:
    text = (
        "某省加快建立健全绿色低碳\n\n循环发展经济体系任务措施\n\n"
        "为贯彻落实《国务院关于加快建立健全绿色低碳循环发展经济体系的指导意\n\n"
        "见》精神，制定如下具体措施。\n\n"
        "一、总体要求\n\n"
        + "".join(
            f"（{n}）推进第{n}项绿色低碳工作。加快推进绿色低碳循环发展，加强统筹协调，推动\n\n"
            "重点领域绿色转型，完善政策机制，强化监督考核，确保各项工作落到实处，形成\n\n"
            "工作合力。到 2025年，森林覆盖率达到 42.5%。（省发展改革委等按职责分工负\n 责）\n\n"
            for n in "一二三四五"
        )
    )
    d = parse_text(text, "t")
    assert d.title == "某省加快建立健全绿色低碳循环发展经济体系任务措施"
    assert d.implements == ["国务院关于加快建立健全绿色低碳循环发展经济体系的指导意见"]
    node = d.node("t/一/三")
    assert "\n" not in node.text and "推动重点领域" in node.text and "形成工作合力" in node.text
    assert [u.name for u in node.units] == ["省发展改革委"]
    assert [brief(t) for t in node.targets] == [
        ("森林覆盖率", "达到", 42.5, "%", 2025, None, False)
    ]


def test_draft_status_and_issuer_from_the_lead() -> None:
    text = (
        "某网讯：近日，某省某市发展和改革委员会发布《某市循环经济发展实施方案（征求意见稿）》，详情如下：\n"
        "[bookmark: _GoBack]某市循环经济发展实施方案 （征求意见稿）\n"
        "\t\t根据《某市国民经济和社会发展第十四个五年规划和2035年远景目标纲要》等文件，制定本方案。\n"
        "\t\t一、重点任务\n\t\t（一）推进循环发展。加强资源综合利用。（市发改委负责）\n"
    )
    d = parse_text(text, "t")
    assert (d.title, d.status, d.issuer) == (
        "某市循环经济发展实施方案",
        "征求意见稿",
        "某市发展和改革委员会",
    )
    assert d.implements == ["某市国民经济和社会发展第十四个五年规划和2035年远景目标纲要"]
    assert (d.number, d.date) == (None, None)  # not stated: not invented


def test_a_fragment_whose_numbering_starts_midway_still_parses() -> None:
    d = parse_text("（十五）推进能源转型。加强电网建设。\n（十六）推进城镇建设。实施改造。\n", "t")
    assert [n.id for n in d.walk()] == ["t/十五", "t/十六"]


def test_mangled_seed_text_gives_a_document_or_a_plan_error_never_a_crash() -> None:
    rng = random.Random(20221118)
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEED_DIR.glob("00*.txt"))]
    noise = ["一、", "（一）", "1.", "——", "\n", "。", "（", "）", "〔", "责任单位：", "到2025年"]
    noise += ["分别达到", "10%", "以上", "《", "**", "# ", "&nbsp;", "全部", "不再列出", "\t"]
    for _ in range(60):
        text = rng.choice(texts)
        a = rng.randrange(len(text))
        chars = list(text[a : a + rng.randrange(200, 4000)])
        for _ in range(rng.randrange(0, 30)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(noise))
        try:
            d = parse_text("".join(chars), "x")  # check=True: accounted for, or it raises
        except PlanError as exc:
            assert "not every character" not in str(exc)
            continue
        number_uses(d)


# -- decoding and refusals -------------------------------------------------------------------

PLAN = FRONT + "一、主要任务\n（一）推进节能减排。到2025年，清洁能源占比达到50%。（市发改委负责）\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    text = (
        PLAN + "（二）加强䶮和𠀀的管理。推进落实。（市发改委负责）\n"
        if encoding == "gb18030"
        else PLAN
    )
    path = tmp_path / f"007_x.{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    d = parse_file(path)
    assert d.id == "007" and d.raw == text
    assert d.title == "某市绿色低碳发展行动方案"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty file"),
        (b" \r\n\t\n", "only whitespace"),
        ("\u3000\n".encode(), "only whitespace"),
        (b"abc\x00def", "NUL byte"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"PK\x03\x04\x14\x00", "ZIP"),
        (b"\x80\x80\xff\xfe\xfd", "neither"),
        ("今天天气很好，我们去公园散步。\n晚上回家吃饭。\n".encode(), "no numbered line"),
        ("1.把鸡蛋打散。\n2.锅里放油，油热后倒入蛋液。\n3.出锅装盘。\n".encode(), "vocabulary"),
    ],
)
def test_refusals_say_what_was_expected_and_found(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(PlanError) as info:
        parse_file(path)
    assert words in str(info.value) and "expected" in str(info.value)
    assert info.value.path == str(path) and isinstance(info.value, ValueError)


def test_decode_is_strict() -> None:
    assert decode("营口".encode("gbk")) == "营口"
    assert decode(b"\xef\xbb\xbf" + "营口".encode()) == "营口"
    with pytest.raises(PlanError):
        decode(b"\x01\x02\x03\x04\x05\x06\x07" * 10)


def test_default_doc_id() -> None:
    assert default_doc_id("data/plans/000_3e6d4a3606b6dd12.txt") == "000"
    assert default_doc_id("data/plans/004.txt") == "004"


# -- accountability ----------------------------------------------------------------------------


def test_accountability_can_fail() -> None:
    d = doc_of("一、主要任务\n（一）推进节能减排。加强管理。（市发改委负责）\n")
    assert accountability(d) == []
    node = d.node("t/一/一")
    node.spans[0] = Span(node.spans[0].start + 3, node.spans[0].end)  # lose "（一）"
    problems = accountability(d)
    assert len(problems) == 1
    assert any(p.startswith("gap at line") and "'（一）'" in p for p in problems)
    d.dropped.append(Dropped(Span(0, 2), d.raw[0:2], "test"))  # and an overlap
    assert any(p.startswith("overlap") for p in accountability(d))


def test_parse_refuses_a_document_with_unplaced_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module._Parser, "_drop_whitespace", lambda self, a, b: None)
    with pytest.raises(PlanError, match="not every character is accounted for.*gap at line"):
        doc_of("一、主要任务\n（一）推进节能减排。加强管理。（市发改委负责）\n")
    d = parse_text(FRONT + "一、主要任务\n推进落实，加强管理，实施改造。\n", "t", check=False)
    assert accountability(d)


# -- command line ------------------------------------------------------------------------------


def test_cli_parse_prints_tree_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "005.txt"
    path.write_text(
        FRONT + "一、主要任务\n（一）推进节能减排。到2025年，清洁能源占比达到50%。"
        "（市发改委牵头，市工信局负责）\n",
        encoding="utf-8",
    )
    assert main(["parse", str(path)]) == 0
    out = capsys.readouterr().out
    assert "005/一/一  推进节能减排" in out
    assert "units: 市发改委★、市工信局" in out
    assert "target: 清洁能源占比 达到 50 % (2025) «清洁能源占比达到50%»" in out
    assert "nodes per level: L1 1, L2 1, L3 0, L4 0" in out
    assert "could not be placed: none" in out
    assert main(["parse", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] == "005" and "raw" not in data
    assert data["nodes"][0]["children"][0]["targets"][0]["value"] == 50.0
    (tmp_path / "empty.txt").write_bytes(b"")
    assert main(["parse", str(tmp_path / "empty.txt")]) == 2
    assert "empty file" in capsys.readouterr().err


def test_unit_alias_table_is_checked(tmp_path: Path) -> None:
    from plans.parse import unit_aliases, unit_name

    table = unit_aliases()
    assert unit_name("市发展改革委", "002", table) == "市发改委"
    assert unit_name("市农业农村", "004", table) == "市农业农村局"  # a truncation in 004
    assert unit_name("市农业农村", "001", table) == "市农业农村"  # fixed for 004 only
    bad = tmp_path / "units.csv"
    bad.write_text("alias,name,documents,reason\n甲,乙,,同一单位\n乙,丙,,同一单位\n", "utf-8")
    with pytest.raises(PlanError, match="both an alias and a unit's name"):
        unit_aliases(bad)
    bad.write_text("alias,name,documents,reason\n甲,乙,,\n", "utf-8")
    with pytest.raises(PlanError, match="row 2"):
        unit_aliases(bad)
