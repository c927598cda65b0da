"""The PII detector's pieces, each at its edges: the fold table, the check-digit validators and
their date and length limits, the groupings a card number is written in, numbers joined as a
reader joins them, plates, name plausibility, the greedy resolution and the requester's own
names (what touches a kept name and what strictly contains it)."""

from __future__ import annotations

import pytest

from archive.models import SpanKind
from pipelines import pii
from pipelines.pii import Detected, detect

K = SpanKind


def _id18(first17: str) -> str:
    return first17 + pii.id_card_check_char(first17)


def _credit(first17: str) -> str:
    return first17 + pii.credit_code_check_char(first17)


# --- normalisation -------------------------------------------------------------------------------


def test_the_fold_table_maps_odd_spaces_and_full_width_forms_one_to_one() -> None:
    table = pii._fold_table()
    assert table == pii._FOLD  # what normalise() uses
    for cp in (0x00A0, 0x2000, 0x2005, 0x200A, 0x3000):
        assert table[cp] == " ", hex(cp)
    assert (table[0xFF01], table[0xFF10], table[0xFF21], table[0xFF5E], table[0xFFEE]) == (
        "!",
        "0",
        "A",
        "~",
        "○",
    )
    # not folded: outside the ranges, NFKC giving two characters (￣), or nothing (unassigned)
    for cp in (0x009F, 0x00A1, 0x1FFF, 0x200B, 0x2FFF, 0x3001, 0xFF00, 0xFFE3, 0xFFBF, 0xFFEF):
        assert cp not in table, hex(cp)
    assert all(len(v) == 1 for v in table.values())
    assert pii.normalise("ＡＢ\u3000１２") == "AB 12"


def test_words_split_on_any_whitespace() -> None:
    assert pii._words(" 张三\t李四\n 王五  ") == frozenset({"张三", "李四", "王五"})
    assert pii._words("") == frozenset()


# --- validators ----------------------------------------------------------------------------------


def test_check_characters_need_exactly_17_characters() -> None:
    assert pii.id_card_check_char("11010519491231002") == "X"
    assert pii.credit_code_check_char("91350100M000100Y4") == "3"
    for short in ("1101051949123100", "110105194912310021"):
        with pytest.raises(ValueError):
            pii.id_card_check_char(short)
    for short in ("91350100M000100Y", "91350100M000100Y43"):
        with pytest.raises(ValueError):
            pii.credit_code_check_char(short)


def test_birth_years_from_1900_to_2100() -> None:
    assert pii.id_card_valid(_id18("11010519000101123"))
    assert pii.id_card_valid(_id18("11010521001231123"))
    assert not pii.id_card_valid(_id18("11010518991231123"))
    assert not pii.id_card_valid(_id18("11010521010101123"))


def test_fifteen_digit_ids_read_their_own_date() -> None:
    assert pii.id_card_valid("110105960229123")  # 29 Feb 1996
    assert pii.id_card_valid("110105040229123")  # 29 Feb 1904 (1905 has none)
    assert not pii.id_card_valid("110105970229123")  # 1997 is not a leap year
    assert pii.id_card_valid("110105961210123")  # the 10th, not the 0th
    assert not pii.id_card_valid("110105961200123")
    assert not pii.id_card_valid("1101059602291234")  # 16 digits: neither form
    assert not pii.id_card_valid("11010596022912")
    assert not pii.id_card_valid("11010596022912X")


def test_luhn_ignores_spaces_and_hyphens_but_nothing_else() -> None:
    card = "6217000000000000004"
    assert pii.luhn_valid(card) and pii.luhn_valid("6217-0000-0000-0000-004")
    assert pii.luhn_valid("6217 0000 0000 0000 004") and pii.luhn_valid("6217 0000-0000 0000-004")
    assert not pii.luhn_valid("6217000000000000005")
    assert not pii.luhn_valid("6217_0000_0000_0000_004")
    assert not pii.luhn_valid("")
    assert not pii.luhn_valid(" - ")
    assert not pii.luhn_valid("６２１７" + "０" * 14 + "４")  # full-width digits are not ASCII
    assert pii.luhn_valid("18") and not pii.luhn_valid("81") and pii.luhn_valid("59")


def test_credit_codes_check_the_authority_first_and_the_division_code_digits() -> None:
    assert pii.credit_code_valid("91350100M000100Y43")
    assert pii.credit_code_valid(_credit("9B350100M000100Y4"))  # any class character second
    assert not pii.credit_code_valid(_credit("B9350100M000100Y4"))  # B is no authority
    assert not pii.credit_code_valid(_credit("91A50100M000100Y4"))  # division code must be digits
    assert not pii.credit_code_valid(_credit("9135010AM000100Y4"))


# --- number-like detectors -----------------------------------------------------------------------


def test_bank_cards_of_16_to_19_digits_whole_or_grouped() -> None:
    def found(t: str) -> list[tuple[int, int]]:
        return [(s, e) for kind, s, e in pii._bank_cards(t) if kind is K.BANK_CARD]

    assert found("卡号6217000000000000004。") == [(2, 21)]
    assert found("卡号6222000000000009。") == [(2, 18)]
    assert found("卡号6217 0000 0000 0000 004。") == [(2, 25)]
    assert found("卡号6217-0000-0000-0000-004。") == [(2, 25)]
    assert found("卡号6222 0000 0000 0009。") == [(2, 21)]
    assert found("卡号6222-0000-0000-0009。") == [(2, 21)]
    assert found("卡号6217000000000000005。") == []


def test_the_groupings_a_card_number_is_written_in() -> None:
    good = [(19,), (6, 13), (4, 4, 4, 4), (4, 4, 4, 3), (4, 4, 4, 4, 3), (1,) * 16]
    bad = [
        (3, 3, 3, 3, 4),
        (4, 4, 4, 2, 2),
        (4, 3, 3, 3, 3),
        (2,) * 8,
        (5, 5, 6),
        (5, 5, 5, 1),
        (1,) * 15 + (2,),
    ]
    assert [pii._bank_shape(s) for s in good] == [True] * len(good)
    assert [pii._bank_shape(s) for s in bad] == [False] * len(bad)


def test_numbers_joined_as_a_reader_joins_them() -> None:
    def chained(t: str, spoken: bool = False) -> list[tuple[K, int, int]]:
        return list(pii._chained_numbers(t, spoken=spoken))

    assert chained("110105 491231 002") == [(K.ID_CARD, 0, 17)]  # 15 digits
    assert chained("86 139 0431 8866") == [(K.MOBILE, 0, 16), (K.MOBILE, 3, 16)]  # 13 and 11 digits
    assert chained("010 2345678") == [(K.LANDLINE, 0, 11)]  # 10 digits, 3 + 7
    assert chained("010 23 456789") == [(K.LANDLINE, 0, 13)]
    assert chained("0431 8866 5432") == [(K.LANDLINE, 0, 14)]  # 12 digits, 4 + 8
    assert chained("010 234567890") == []  # 3 + 9: too long for a number
    assert chained("010 234567890", spoken=True) == [(K.OTHER, 0, 13), (K.OTHER, 4, 13)]
    assert chained("123 4567") == [] == list(pii._chained_numbers("123 4567"))  # not spoken: nothing
    assert chained("123 4567", spoken=True) == [(K.OTHER, 0, 8)]  # 7 digits read aloud
    assert chained("123 456", spoken=True) == []
    cards = {
        "6012 0000 0000 0003": True,  # 16 digits, the second not in 234569
        "6217 0000 0000 0000 004": True,  # 19
        "6222 0000 0000 0000 0009": False,  # 20
        "1012 0000 0000 0007": False,  # no card starts with 1
    }
    for t, is_card in cards.items():
        kinds = {k for k, _, _ in chained(t)}
        assert (K.BANK_CARD in kinds) is is_card, t


def test_plates_need_a_digit_and_six_characters_only_on_new_energy_plates() -> None:
    def plates(t: str) -> list[str]:
        return [t[s:e] for _, s, e in pii._plates(t)]

    assert plates("吉A12345") == ["吉A12345"]
    assert plates("车牌吉ABCDEF，另一辆吉A12345。") == ["吉A12345"]
    assert plates("吉AD12345，吉A12345F") == ["吉AD12345", "吉A12345F"]
    assert plates("吉A123456，吉AX12345，吉A12345X，吉B54321") == ["吉B54321"]
    assert plates("吉A1234学") == ["吉A1234学"]


def test_a_name_is_a_surname_and_a_given_name_with_nothing_after_it() -> None:
    assert pii._plausible_name("上官婉儿。", "上官婉儿", 4)  # a double surname alone
    assert pii._plausible_name("闻人美琪。", "闻人美琪", 4)
    assert pii._plausible_name("闻人琪。", "闻人琪", 3)
    assert not pii._plausible_name("闻人。", "闻人", 2)
    assert pii._plausible_name("张三。", "张三", 2)
    assert not pii._plausible_name("张三路", "张三", 2)  # a road
    assert not pii._plausible_name("张三路口", "张三", 2)
    assert not pii._plausible_name("张三化工", "张三", 2)  # a company
    assert pii._plausible_name("张三化", "张三", 2)
    assert not pii._plausible_name("甲乙。", "甲乙", 2)


def test_occurrences_overlap() -> None:
    assert list(pii._occurrences("aaa", "aa")) == [(0, 2), (1, 3)]
    assert list(pii._occurrences("xaxaxa", "a")) == [(1, 2), (3, 4), (5, 6)]
    assert list(pii._occurrences("xyz", "a")) == []


def test_resolution_keeps_touching_spans_and_goes_on_after_a_clash() -> None:
    a, b, c = (K.EMAIL, 0, 5), (K.MOBILE, 5, 10), (K.LANDLINE, 10, 12)
    assert pii._resolve([(1, b), (0, a), (1, c)]) == [a, b, c]
    longer, before = (K.EMAIL, 5, 15), (K.MOBILE, 0, 5)
    assert pii._resolve([(0, longer), (1, before)]) == [before, longer]
    clash, later = (K.MOBILE, 3, 8), (K.PLATE, 20, 25)
    assert pii._resolve([(0, longer), (0, before), (1, clash), (1, later)]) == [before, longer, later]
    # one ending inside a chosen span that starts after it, then one that fits
    inside, fits = (K.MOBILE, 2, 7), (K.PLATE, 20, 25)
    assert pii._resolve([(0, (K.EMAIL, 5, 15)), (1, inside), (1, fits)]) == [(K.EMAIL, 5, 15), fits]


# --- across line breaks --------------------------------------------------------------------------


def test_codes_addresses_and_names_across_a_line_break_only() -> None:
    asked: list[tuple[int, int]] = []

    def nobody(a: int, b: int) -> bool:
        asked.append((a, b))
        return False

    code = "代码91350100M000\n100Y43号"
    assert list(pii._compact_candidates(code, [], nobody)) == [(0, (K.CREDIT_CODE, 2, 21))]
    # found whole in the plain text: not again here, though the text has whitespace elsewhere
    assert list(pii._compact_candidates("代码 91350100M000100Y43", ["张三"], nobody)) == []
    assert list(pii._compact_candidates("证人 张三说", ["张三"], nobody)) == []
    assert asked == []
    names = "证人张\n三说"
    assert list(pii._compact_candidates(names, ["张三"], nobody)) == [(1, (K.PERSON, 2, 5))]
    assert asked == [(2, 5)]
    assert list(pii._compact_candidates(names, ["张三"], lambda a, b: (a, b) == (2, 5))) == []
    place = "住吉林省长春市朝阳\n区人民大街100号"
    found = list(pii._compact_candidates(place, [], nobody))
    assert found == [(1, (K.ADDRESS, 1, len(place)))]
    assert list(pii._compact_candidates("无空白的文本", ["张三"], nobody)) == []


# --- the requester's own names -------------------------------------------------------------------


def _names(text: str, names: list[str], keep: list[str]) -> list[str]:
    return [d.text for d in detect(text, names=names, keep=keep, ner=False) if d.kind is K.PERSON]


def test_names_touching_a_kept_name_are_still_hidden() -> None:
    assert _names("王五李四", ["王五"], ["李四"]) == ["王五"]
    assert _names("李四王五", ["王五"], ["李四"]) == ["王五"]
    assert _names("李四王五", ["王五", "李四"], ["李四"]) == ["王五"]


def test_a_name_strictly_containing_a_kept_one_is_hidden() -> None:
    assert _names("张三丰到场", ["张三丰"], ["三丰"]) == ["张三丰"]
    assert _names("张三丰到场", ["张三丰"], ["张三"]) == ["张三丰"]
    assert _names("张三到场", ["张三"], ["张三"]) == []
    assert _names("张三丰到场", ["三丰"], ["张三丰"]) == []


def test_keep_and_names_may_be_one_string() -> None:
    assert _names("张三和李四", "张三", "李四") == ["张三"]  # type: ignore[arg-type]
    assert _names("张三和李四", ["张三", "李四"], "李四") == ["张三"]  # type: ignore[arg-type]


def test_a_chained_id_number_wins_over_a_phone_number_inside_it() -> None:
    found = detect("身份证 110105 19491231 002X", ner=False)
    assert found == [Detected(K.ID_CARD, 4, 24, "110105 19491231 002X")]


# --- addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("住吉林省人民大街100号", ["吉林省人民大街100号"]),  # province, road: lead-in 住 dropped
        ("家住吉林省长春市5号", ["吉林省长春市5号"]),  # two divisions, no road
        ("位于朝阳区幸福村3组", ["朝阳区幸福村3组"]),
        ("前往延边朝鲜族自治州和龙市1号", ["延边朝鲜族自治州和龙市1号"]),
        ("住址：北京市东城区100号", ["北京市东城区100号"]),
        ("驶入城关镇和平村委会2组", ["城关镇和平村委会2组"]),
        ("家住长春市朝阳区人民大街100号楼", ["长春市朝阳区人民大街100号楼"]),
        ("住人民大街100号", []),  # a road alone is no address
        ("来到长春市100号", []),  # one division alone neither
        ("吉林省100号", []),
        ("住幸福村3组", []),
        ("3号楼5单元", []),
    ],
)
def test_addresses_need_a_division_and_a_place_or_two_divisions(text: str, found: list[str]) -> None:
    assert [text[s:e] for kind, s, e in pii._addresses(text) if kind is K.ADDRESS] == found


def test_lead_in_words_are_trimmed_from_the_first_place_name() -> None:
    assert pii._trim_lead_in("住在朝阳") == 1
    assert pii._trim_lead_in("家住朝阳") == 2
    assert pii._trim_lead_in("来到了朝阳") == 2
    assert pii._trim_lead_in("朝阳") == 0
    assert pii._trim_lead_in("住朝阳") == 1


# --- names from the tagger (a scripted tagger: the rules around it, not jieba, are tested) ----------


class _Pair:
    def __init__(self, word: str, flag: str) -> None:
        self.word, self.flag = word, flag


def _tagged(monkeypatch: pytest.MonkeyPatch, text: str, tags: str) -> list[str]:
    """Names found in ``text`` when the tagger cuts it as ``tags`` ("word/flag word/flag …")."""

    class Tagger:
        def cut(self, t: str) -> list[_Pair]:
            assert t == text
            return [_Pair(*item.rsplit("/", 1)) for item in tags.split()]

    monkeypatch.setattr(pii, "_tagger", Tagger)
    return [text[s:e] for kind, s, e in pii._tagged_names(text) if kind is K.PERSON]


@pytest.mark.parametrize(
    ("text", "tags", "names"),
    [
        ("李明说", "李明/nr 说/v", ["李明"]),  # a name at the very start
        ("李明 王芳 王芳", "李明/nr 王芳/nr 王芳/nr", ["李明", "王芳", "王芳"]),  # whitespace not returned
        ("刘海燕。", "刘/zg 海燕/nr 。/x", ["刘海燕"]),  # the surname split off, put back
        ("欧阳娜娜。", "欧阳/ns 娜娜/nrt 。/x", ["欧阳娜娜"]),
        ("刘 海燕。", "刘/zg 海燕/nr 。/x", ["海燕"]),  # not joined: a space between
        ("和李明说", "和/uj 李明/nr 说/v", ["李明"]),  # a particle, not a surname
        ("和李明说", "和/vn 李明/nr 说/v", ["李明"]),
        ("刘海燕飞", "刘/zg 海燕飞/nr", ["海燕飞"]),  # three characters: never joined
        ("赵国燕。", "赵国/nr 燕/nr 。/x", ["赵国燕"]),  # the given name's last character put back
        ("孙涛海，", "孙涛/nr 海/n ，/x", ["孙涛海"]),
        ("孙涛海", "孙涛/nr 海/n", ["孙涛海"]),
        ("孙涛海边", "孙涛/nr 海/n 边/n", ["孙涛"]),
        ("孙涛的", "孙涛/nr 的/uj", ["孙涛"]),  # 的 never ends a name
        ("孙涛海洋", "孙涛/nr 海洋/n", ["孙涛"]),
        ("负责人马云飞，", "负责/v 人马/n 云飞/nr ，/x", ["马云飞"]),  # the surname went to the word before
        ("瓦斯泄漏", "瓦斯/nrt 泄漏/v", []),  # a transliteration without a surname
        ("张三丰", "张三丰/x", []),  # not tagged as a name
        ("李明", "李明/nr 丢失/v", ["李明"]),  # a token not in the text is skipped
        ("李明说", "丢失/v 李明/nr 说/v", ["李明"]),
        ("李明 李明", "李明/nr 李明/nr", ["李明", "李明"]),
        ("是孙涛海，", "是/v 孙涛/nr 海/n ，/x", ["孙涛海"]),
        ("赵国燕说", "赵国/nr 燕/nr 说/v", ["赵国燕"]),  # 燕 tagged as a name goes on the name
        ("马克来了", "马克/nrt 来/v 了/ul", []),  # a transliteration without a surname before it
        ("马克和李明", "马克/nrt 和/c 李明/nr", ["李明"]),
    ],
)
def test_names_around_the_taggers_cut(
    monkeypatch: pytest.MonkeyPatch, text: str, tags: str, names: list[str]
) -> None:
    assert _tagged(monkeypatch, text, tags) == names


def test_names_are_placed_where_they_stand(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "李明 王芳 王芳"

    class Tagger:
        def cut(self, t: str) -> list[_Pair]:
            return [_Pair("李明", "nr"), _Pair("王芳", "nr"), _Pair("王芳", "nr")]

    monkeypatch.setattr(pii, "_tagger", Tagger)
    assert list(pii._tagged_names(text)) == [(K.PERSON, 0, 2), (K.PERSON, 3, 5), (K.PERSON, 6, 8)]
