"""Sensitive-span detection (pipelines/pii.py).

Check characters are computed here with formulas written independently of the module (the ID
weights as 2^(17-i) mod 11, the credit-code weights as 3^i mod 31, Luhn by digit sums), and
cross-checked against the published examples of GB 11643 and GB 32100.
"""

from __future__ import annotations

import itertools
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from archive.models import SpanKind
from pipelines import pii
from pipelines.pii import Detected, credit_code_valid, detect, id_card_valid, luhn_valid

# --- independent check-character helpers ---------------------------------------------------------


def id_check(first17: str) -> str:
    """GB 11643: weights 2^(17-i) mod 11, check value (12 - sum mod 11) mod 11, 10 written X."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(area: str = "430104", birth: str = "19900307", seq: str = "123") -> str:
    first17 = area + birth + seq
    assert len(first17) == 17
    return first17 + id_check(first17)


CREDIT_SET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_check(first17: str) -> str:
    """GB 32100: weights 3^i mod 31, check value 31 - sum mod 31 (31 becomes 0)."""
    total = sum(CREDIT_SET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return CREDIT_SET[(31 - total % 31) % 31]


def make_credit(first17: str = "91430104MA4L0X2N1") -> str:
    return first17 + credit_check(first17)


def luhn_sum(digits: str) -> int:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total


def make_card(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    for d in "0123456789":
        if luhn_sum(body + d) % 10 == 0:
            return body + d
    raise AssertionError("unreachable")


def spans(text: str, **kw: Any) -> list[tuple[SpanKind, str]]:
    return [(d.kind, d.text) for d in detect(text, **kw)]


def only(text: str, kind: SpanKind, **kw: Any) -> list[str]:
    return [t for k, t in spans(text, **kw) if k == kind]


def with_last(s: str, c: str) -> str:
    return s[:-1] + c


# --- validators ---------------------------------------------------------------------------------


def test_published_examples_validate() -> None:
    assert id_card_valid("11010519491231002X")  # GB 11643-1999 example
    assert id_card_valid("11010519491231002x")
    assert credit_code_valid("91350100M000100Y43")  # GB 32100-2015 example
    assert luhn_valid("79927398713")
    assert luhn_valid("4111 1111 1111 1111")
    assert id_check("11010519491231002") == "X"
    assert credit_check("91350100M000100Y4") == "3"


def test_generated_ids_validate_and_any_single_change_is_rejected() -> None:
    rng = random.Random(11)
    for _ in range(200):
        birth = f"{rng.randint(1930, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        s = make_id(rng.choice(["110105", "430104", "440305", "650102"]), birth, f"{rng.randrange(1000):03d}")
        assert id_card_valid(s), s
        i = rng.randrange(17)
        changed = s[:i] + str((int(s[i]) + rng.randint(1, 9)) % 10) + s[i + 1 :]
        assert not id_card_valid(changed), changed  # 11 is prime: one changed digit always shows
        wrong = next(c for c in "0123456789X" if c != s[-1])
        assert not id_card_valid(with_last(s, wrong))


def test_id_needs_a_real_birth_date_and_province() -> None:
    assert not id_card_valid(make_id(birth="19900230"))  # 30 February, checksum right
    assert not id_card_valid(make_id(birth="18991231"))  # before 1900
    assert not id_card_valid(make_id(birth="19901301"))
    assert id_card_valid(make_id(birth="20000229"))  # leap day
    assert not id_card_valid(make_id(area="990104"))  # no province 99
    assert not id_card_valid("43010419900307123")  # 17 characters
    assert not id_card_valid("43010419900307123Y")


def test_fifteen_digit_ids_need_a_real_date() -> None:
    assert id_card_valid("430104900307123")  # 1990-03-07
    assert not id_card_valid("430104901307123")  # month 13
    assert not id_card_valid("430104900230123")  # 30 February 1990


def test_credit_codes() -> None:
    rng = random.Random(5)
    for _ in range(200):
        first17 = rng.choice("159Y") + rng.choice("123") + f"{rng.randrange(10**6):06d}"
        first17 += "".join(rng.choice(CREDIT_SET) for _ in range(9))
        s = make_credit(first17)
        assert credit_code_valid(s), s
        assert not credit_code_valid(with_last(s, next(c for c in CREDIT_SET if c != s[-1])))
    good = make_credit()
    assert not credit_code_valid(good.lower())
    assert not credit_code_valid("I" + good[1:])  # I, O, S, V, Z are not in the code set
    assert not credit_code_valid(make_credit("9143A104MA4L0X2N1"))  # division code must be digits


def test_luhn() -> None:
    rng = random.Random(3)
    for length in (16, 17, 18, 19):
        card = make_card("62", length, rng)
        assert luhn_valid(card)
        assert not luhn_valid(with_last(card, str((int(card[-1]) + 1) % 10)))
    assert not luhn_valid("")
    assert not luhn_valid("12ab")


# --- number-like spans --------------------------------------------------------------------------


def test_id_card_found_with_offsets() -> None:
    idn = make_id("110105", "19850612", "432")
    text = f"被询问人身份证号：{idn}，现住址不详。"
    found = detect(text, ner=False)
    assert found == [Detected(SpanKind.ID_CARD, 9, 27, idn)]


def test_id_card_invalid_or_embedded_is_not_an_id() -> None:
    idn = make_id()
    bad = with_last(idn, next(c for c in "0123456789" if c != idn[-1]))
    assert only(f"身份证号{bad}。", SpanKind.ID_CARD, ner=False) == []
    assert only(f"编号1{idn}。", SpanKind.ID_CARD, ner=False) == []
    assert only(f"编号{idn}7。", SpanKind.ID_CARD, ner=False) == []
    assert only(f"编号AB{idn}。", SpanKind.ID_CARD, ner=False) == []
    assert only("旧身份证430104900307123号码", SpanKind.ID_CARD, ner=False) == ["430104900307123"]


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 13800138000",
        "+86-138-0013-8000",
        "8613912345678",
    ],
)
def test_mobile_forms(phone: str) -> None:
    assert spans(f"联系电话：{phone}。", ner=False) == [(SpanKind.MOBILE, phone)]


def test_mobile_in_a_longer_number_is_not_a_phone() -> None:
    assert spans("订单号213800138000。", ner=False) == []
    assert spans("流水号138001380001。", ner=False) == []
    assert spans("号码12800138000。", ner=False) == []  # no 12x mobile prefix
    # mixed separators are still one number to a reader (the redaction must hide it)
    assert spans("号码138-0013 8000。", ner=False) == [(SpanKind.MOBILE, "138-0013 8000")]


@pytest.mark.parametrize(
    "phone", ["0731-88888888", "073188888888", "010-62345678", "(0731)8888 8888转123", "0431-8888888-123"]
)
def test_landline_forms(phone: str) -> None:
    assert spans(f"座机{phone}，", ner=False) == [(SpanKind.LANDLINE, phone)]


def test_landline_not_in_longer_digits() -> None:
    assert spans("编号10731-88888888，", ner=False) == []
    assert spans("编号0731888888881，", ner=False) == []


def test_bank_cards_plain_and_grouped() -> None:
    rng = random.Random(8)
    card16 = make_card("6222", 16, rng)
    card19 = make_card("6217", 19, rng)
    grouped = " ".join(card19[i : i + 4] for i in range(0, 19, 4))
    assert spans(f"卡号{card16}。", ner=False) == [(SpanKind.BANK_CARD, card16)]
    assert spans(f"银行卡号：{grouped}，开户行", ner=False) == [(SpanKind.BANK_CARD, grouped)]
    bad = with_last(card16, str((int(card16[-1]) + 1) % 10))
    assert spans(f"卡号{bad}。", ner=False) == []
    assert spans(f"编号9{card16}9。", ner=False) == []  # inside 18 digits, and not Luhn-checked alone


def test_an_id_that_also_passes_luhn_is_an_id() -> None:
    idn = next(
        s for s in (make_id(seq=f"{n:03d}") for n in range(1000)) if s[-1] != "X" and luhn_sum(s) % 10 == 0
    )
    assert spans(f"号码{idn}。", ner=False) == [(SpanKind.ID_CARD, idn)]


def test_credit_code_found_and_checked() -> None:
    code = make_credit()
    assert spans(f"统一社会信用代码：{code}。", ner=False) == [(SpanKind.CREDIT_CODE, code)]
    bad = with_last(code, next(c for c in CREDIT_SET if c != code[-1]))
    assert spans(f"统一社会信用代码：{bad}。", ner=False) == []
    assert spans(f"编码X{code}。", ner=False) == []
    assert spans(f"编码{code}8。", ner=False) == []


@pytest.mark.parametrize(
    "plate", ["湘A12345", "粤B·D12345", "京A1234学", "鲁AF1234挂", "浙A 8C2F9", "沪A12345D"]
)
def test_plates(plate: str) -> None:
    assert spans(f"车辆{plate}停放于此", ner=False) == [(SpanKind.PLATE, plate)]


@pytest.mark.parametrize("text", ["湘A1234停放", "湘ABCDE停放", "湘AB12345C", "湘AB1234C停放", "湘I12345"])
def test_not_plates(text: str) -> None:
    assert spans(text, ner=False) == []


def test_email() -> None:
    assert spans("邮箱zhang.san@example.com.cn。", ner=False) == [
        (SpanKind.EMAIL, "zhang.san@example.com.cn")
    ]
    # a mobile number as the local part stays one e-mail span
    assert spans("邮箱13800138000@163.com，", ner=False) == [(SpanKind.EMAIL, "13800138000@163.com")]


# --- addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("湖南省长沙市岳麓区麓山南路932号", "湖南省长沙市岳麓区麓山南路932号"),
        ("某某县城关镇东风村三组", "某某县城关镇东风村三组"),
        ("当事人住湖南省长沙市岳麓区麓山南路932号。", "湖南省长沙市岳麓区麓山南路932号"),
        ("被检查单位位于农安县宏达路18号。", "农安县宏达路18号"),
        ("地点农安镇兴农路123号，", "农安镇兴农路123号"),
        ("家住浙江省杭州市西湖区文三路90号3号楼501室，", "浙江省杭州市西湖区文三路90号3号楼501室"),
        ("北京市海淀区中关村大街1号", "北京市海淀区中关村大街1号"),
        ("上海市浦东新区张江路88弄5号", "上海市浦东新区张江路88弄5号"),
        ("住所：长沙市开福区阳光小区3栋2单元", "长沙市开福区阳光小区3栋2单元"),
        ("湖南省长沙市岳麓区麓山南路９３２号", "湖南省长沙市岳麓区麓山南路９３２号"),
    ],
)
def test_addresses(text: str, address: str) -> None:
    assert only(text, SpanKind.ADDRESS, ner=False) == [address]


@pytest.mark.parametrize(
    "text",
    [
        "长沙市",
        "应急管理局",
        "湖南省长沙市岳麓区",
        "危险化学品仓储区3号库房",
        "该公司厂区3号仓库未设置报警装置",
        "农安县万家福超市3号收银台",
        "农应急罚〔2026〕12号",
        "东风村三组",  # no administrative part
        "检查组分为三组",
    ],
)
def test_not_addresses(text: str) -> None:
    assert only(text, SpanKind.ADDRESS, ner=False) == []


# --- full-width ---------------------------------------------------------------------------------


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def test_full_width_forms_are_found_at_original_offsets() -> None:
    idn, code, phone = make_id(), make_credit(), "13800138000"
    text = (
        f"甲：身份证{_fullwidth(idn)}；乙：代码{_fullwidth(code)}；"
        f"电话（０７３１）８８８８８８８８，手机{_fullwidth(phone)}。"
    )
    found = detect(text, ner=False)
    assert [d.kind for d in found] == [
        SpanKind.ID_CARD,
        SpanKind.CREDIT_CODE,
        SpanKind.LANDLINE,
        SpanKind.MOBILE,
    ]
    for d in found:
        assert text[d.start : d.end] == d.text
    assert found[0].start == text.index("４") and found[0].text == _fullwidth(idn)
    assert found[1].text == _fullwidth(code)
    assert found[2].text == "（０７３１）８８８８８８８８"
    assert found[3].text == "１３８００１３８０００"
    assert pii.normalise("ＡＢＣ０１２　－") == "ABC012 -"


# --- names --------------------------------------------------------------------------------------


def test_ner_finds_common_names() -> None:
    # jieba 0.42.1 tags 李明 and 张建国 as nr in these sentences (checked when writing the test)
    assert spans("证人李明称当天看见该车辆驶入仓库。") == [(SpanKind.PERSON, "李明")]
    assert spans("询问当事人张建国：危险化学品仓库未设置报警装置。") == [(SpanKind.PERSON, "张建国")]
    assert spans("证人李明称当天看见该车辆驶入仓库。", ner=False) == []


def test_ner_does_not_take_a_preposition_for_a_surname() -> None:
    # 向 and 和 are surnames too, but here jieba tags them p and c
    text = "执法人员向李明送达了决定书。我和李明一起去的仓库。"
    assert only(text, SpanKind.PERSON) == ["李明", "李明"]


def test_ner_repairs_names_the_tagger_split() -> None:
    # 负责/人马/云飞: the surname went into the word before; 郑/海波: not tagged, but after a role word
    assert only("负责人马云飞拒绝签收，见证人黄晓明在场。", SpanKind.PERSON) == ["马云飞", "黄晓明"]
    assert only("企业负责人郑海波、安全员何丽娟一同参加了检查。", SpanKind.PERSON) == ["郑海波", "何丽娟"]
    assert only("询问人：孙立军、周晓梅，记录人：吴国庆。", SpanKind.PERSON) == ["孙立军", "周晓梅", "吴国庆"]


@pytest.mark.parametrize(
    "text",
    [
        "应急管理局执法人员对企业进行现场检查，发现安全隐患三处",
        "执法人员出示执法证件，告知当事人依法享有陈述、申辩和要求听证的权利。",
        "当事人不服本决定的，可以在六十日内申请行政复议，也可以在六个月内依法向人民法院提起行政诉讼。",
        "该公司未取得安全生产许可证擅自从事危险化学品经营活动。",
        "仓库内存放甲醇、丙酮等易燃液体约12吨，申请人提交了申请书和银行卡复印件。",
        "询问笔录：当事人陈述属实。档案管理员尚未审查。",
        "对涉案危险化学品实施先行登记保存，并开具先行登记保存证据通知书。",
        "依据《中华人民共和国安全生产法》第九十九条的规定，责令限期整改。",
        "现场检查记录（编号 农应急检〔2026〕3号），检查时间：2026年5月8日。",
        "地点合隆镇腾飞路，被检查单位：农安县金鑫矿业有限公司",
        "二号储罐静电接地电阻 12 欧姆，不符合要求。",
    ],
)
def test_ordinary_enforcement_text_has_no_spans(text: str) -> None:
    assert detect(text) == []


def test_names_and_keep() -> None:
    text = "申请人张建国称，王秀英和赵四当天在场，王秀英未签字；张建国本人签字确认。"
    found = detect(text, names=["王秀英", "赵四", "张建国"], keep=["张建国"], ner=False)
    expected = [
        ("王秀英", text.index("王秀英")),
        ("赵四", text.index("赵四")),
        ("王秀英", text.rindex("王秀英")),
    ]
    assert [(d.text, d.start) for d in found] == expected
    assert all(d.kind == SpanKind.PERSON for d in found)
    # keep also silences the tagger; other tagged names remain
    tagged = only("证人李明称，当事人张建国在场。", SpanKind.PERSON, keep=["张建国"])
    assert tagged == ["李明"]
    assert only("证人李明称当天看见该车辆驶入仓库。", SpanKind.PERSON, keep=["李明"]) == []


def test_keep_is_by_occurrence_not_by_substring() -> None:
    text = "张三丰和张三都在场。"
    assert only(text, SpanKind.PERSON, names=["张三丰"], keep=["张三"], ner=False) == ["张三丰"]
    assert only(text, SpanKind.PERSON, names=["张三"], keep=["张三丰"], ner=False) == ["张三"]
    assert only(text, SpanKind.PERSON, names=["王"], ner=False) == []  # one character: ignored


def test_names_accept_a_single_string_and_full_width_text() -> None:
    assert only("联系人：王秀英", SpanKind.PERSON, names="王秀英", ner=False) == ["王秀英"]


# --- mixed paragraph and overlaps ----------------------------------------------------------------


def test_interview_record_paragraph() -> None:
    idn = make_id("430121", "19850612", "432")
    code = make_credit("91430121MA4L0X2N1")
    card = make_card("622202", 19, random.Random(1))
    grouped = " ".join(card[i : i + 4] for i in range(0, 19, 4))
    para = (
        "询问笔录\n询问时间：2024年3月5日9时10分至10时05分\n询问地点：某某县应急管理局询问室\n"
        f"被询问人：王秀英，性别：女，身份证号码：{idn}，"
        "住某某县城关镇东风村三组，联系电话：138 0013 8000。\n"
        "询问人：孙立军、周晓梅，记录人：吴国庆。\n问：你驾驶的车辆车牌号是多少？答：湘A12345，是公司的货车。\n"
        f"问：公司的统一社会信用代码和你的账户？答：代码是{code}，我个人银行卡号是{grouped}，邮箱wxy1985@163.com。"
    )
    found = detect(para)
    assert [(d.kind, d.text) for d in found] == [
        (SpanKind.PERSON, "王秀英"),
        (SpanKind.ID_CARD, idn),
        (SpanKind.ADDRESS, "某某县城关镇东风村三组"),
        (SpanKind.MOBILE, "138 0013 8000"),
        (SpanKind.PERSON, "孙立军"),
        (SpanKind.PERSON, "周晓梅"),
        (SpanKind.PERSON, "吴国庆"),
        (SpanKind.PLATE, "湘A12345"),
        (SpanKind.CREDIT_CODE, code),
        (SpanKind.BANK_CARD, grouped),
        (SpanKind.EMAIL, "wxy1985@163.com"),
    ]
    for d in found:
        assert para[d.start : d.end] == d.text
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    # the requester asking for her own record keeps her name
    assert "王秀英" not in {d.text for d in detect(para, keep=["王秀英"])}


def test_address_containing_a_name_is_one_span() -> None:
    text = "住湖南省长沙市岳麓区李明路12号"
    assert spans(text, names=["李明"]) == [(SpanKind.ADDRESS, "湖南省长沙市岳麓区李明路12号")]


def test_spans_never_overlap_on_a_long_generated_text() -> None:
    from pipelines.samples import make_index_docs

    text = "\n".join(d.text for d in make_index_docs(60, random.Random(2)))
    found = detect(text)
    assert found == sorted(found, key=lambda d: d.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert all(text[d.start : d.end] == d.text for d in found)
    kinds = {d.kind for d in found}
    assert {SpanKind.ADDRESS, SpanKind.MOBILE, SpanKind.PERSON} <= kinds


def test_fast_enough_without_ner() -> None:
    from pipelines.samples import make_index_docs

    text = "\n".join(d.text for d in make_index_docs(250, random.Random(4)))[:100_000]
    assert len(text) == 100_000
    detect(text[:1000], ner=False)
    t0 = time.perf_counter()
    found = detect(text, ner=False)
    elapsed = time.perf_counter() - t0
    assert found
    assert elapsed < 2.0, elapsed  # ~0.25 s on the development machine


def test_tagger_writes_no_cache_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(pii, "_pos_tokenizer", None)
    assert only("证人李明称当天看见该车辆驶入仓库。", SpanKind.PERSON) == ["李明"]
    assert list(tmp_path.iterdir()) == []


def test_tagger_tables_are_kept_in_the_cache_directory_and_read_back_the_same(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = pii._tagger_tables()  # nothing cached yet: built from jieba's dictionary
    kept = list((tmp_path / "enforcement-archive").glob("tagger-*.marshal"))
    assert len(kept) == 1
    assert pii._tagger_tables() == built  # read back
    freq, total, tags = built
    assert total > 0 and freq["液氨"] > 0 and tags["液氨"] == "n"  # the domain dictionary is in both tables
    assert freq["液"] >= 0 and "储罐" in freq  # jieba's prefix entries are kept too
    kept[0].write_bytes(b"not marshal data")  # a damaged file is built again, not trusted
    assert pii._tagger_tables() == built
    monkeypatch.setattr(pii, "_pos_tokenizer", None)
    assert only("证人李明称当天看见该车辆驶入仓库。", SpanKind.PERSON) == ["李明"]


# --- numbers and names as a reader sees them (issue: detection on what is there) ----------------

ID_WRAPPED = make_id("430103", "19900101", "123")


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        (f"{ID_WRAPPED[:6]}\n{ID_WRAPPED[6:]}", SpanKind.ID_CARD),  # a PDF line wrap
        (f"{ID_WRAPPED[:6]} {ID_WRAPPED[6:14]} {ID_WRAPPED[14:]}", SpanKind.ID_CARD),  # 6-8-4
        (f"{ID_WRAPPED[:10]}\r\n    {ID_WRAPPED[10:]}", SpanKind.ID_CARD),  # wrap with indentation
        ("139 0431 8866", SpanKind.MOBILE),
        ("139-0431-8866", SpanKind.MOBILE),
        ("139.0431.8866", SpanKind.MOBILE),
        ("1390431\n8866", SpanKind.MOBILE),
        ("一三九零四三一八八六六", SpanKind.MOBILE),
        ("一 三 九 零 四 三 一 八 八 六 六", SpanKind.MOBILE),
        ("幺三九洞四三幺八八六六", SpanKind.MOBILE),
        ("１３９　０４３１　８８６６", SpanKind.MOBILE),
        ("0431.8888 6666", SpanKind.LANDLINE),
        ("0431\n88886666", SpanKind.LANDLINE),
    ],
)
def test_numbers_written_in_pieces_are_found_whole(written: str, kind: SpanKind) -> None:
    text = f"联系人员：{written}，已核实。"
    assert spans(text, ner=False) == [(kind, written)]


def test_cards_and_credit_codes_across_a_line_break() -> None:
    rng = random.Random(3)
    card = make_card("622202", 19, rng)
    code = make_credit()
    text = f"开户账号{card[:10]}\n{card[10:]}；统一社会信用代码{code[:9]}\n{code[9:]}。"
    assert spans(text, ner=False) == [
        (SpanKind.BANK_CARD, f"{card[:10]}\n{card[10:]}"),
        (SpanKind.CREDIT_CODE, f"{code[:9]}\n{code[9:]}"),
    ]


def test_a_name_across_a_line_break_is_found() -> None:
    text = "证人王秀\n英在场。"
    assert spans(text, names=["王秀英"], ner=False) == [(SpanKind.PERSON, "王秀\n英")]


def test_short_numbers_and_dates_in_a_row_are_not_joined_into_a_number() -> None:
    text = "2026-11-30 13:45 检查 1 2 3 4 5 6 7 8 9 10 11 项，罚款人民币伍万元，第一二三条。"
    assert spans(text, ner=False) == []


def test_spoken_digit_runs_are_hidden_in_transcripts_only() -> None:
    text = "他的号码是四三零一零三一九九零"  # a number read aloud, transcribed in part
    assert spans(text, ner=False) == []
    assert spans(text, ner=False, spoken=True) == [(SpanKind.OTHER, "四三零一零三一九九零")]
