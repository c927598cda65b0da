"""Sensitive spans in Chinese text, for 脱敏 before a party sees a record (第二十八条).

``detect(text)`` finds identity numbers, phone numbers, bank cards, 统一社会信用代码, licence plates,
e-mail addresses, street addresses and person names, and returns non-overlapping spans with offsets
in the original text. Everything is pure Python (regular expressions and checksums) except person
names found by jieba's part-of-speech tagger (``ner=True``).

Matching runs on a copy of the text in which full-width ASCII (０-９, Ａ-Ｚ, －, （）…) and the
unusual spaces are folded to their NFKC form one character at a time, so offsets found in the copy
are offsets in the original. Numbers are also read as a person reads them (``pipelines.folding``):
Chinese numerals (一三九零…, 幺/洞) as digits, and digit groups split by spaces, a line break or one
separator (139 0431 8866, 139.0431.8866, 430103⏎199001011237, one digit per box) joined; credit
codes, addresses and the case's names are also found where a line break or spaces cut them. Spans
are always offsets into the original text, separators inside included.

Detectors and their rules:

- 身份证号: 18 characters (17 digits and a digit or X) with the GB 11643 check character, a real
  birth date (1900–2100) and a province code (11–82) in front; also the 15-digit IDs issued before
  1999 (province code and a real 19yyMMdd birth date, there is no check digit). Never part of a
  longer run of letters and digits.
- 手机号: ``1[3-9]`` and 9 digits, written whole or as 3-4-4 with one kind of separator, optionally
  after +86/86/0086; not part of a longer digit run.
- 固定电话: area code 0X(X)(X) (optionally in brackets) and a 7–8 digit number not starting with 0/1,
  with an optional extension (转123, -123).
- 银行卡号: 16–19 digits, whole or grouped by fours, passing Luhn, starting with 2–6 or 9 (the
  issuer ranges in use); an 18-digit valid ID is an ID, not a card.
- 统一社会信用代码: GB 32100-2015 — 18 characters from the code set, a registration-authority code
  first, a 6-digit division code at 3–8 and the check character.
- 车牌号: province abbreviation, issuing-authority letter, optional separator, then 5 characters
  (with at least one digit), 6 for new-energy plates (D/F first or last), or 4–5 and 挂/学/警/港/澳.
- 电子邮箱: the usual local@domain.tld shape.
- 住址: a chain of place components (province, city/county/district/town, road, village or
  compound, numbers) ending in 号/室/组/栋/幢/单元/楼/层/户/座/队, with at least one
  administrative component and either a road/village/compound or a second administrative
  component. Conservative on purpose: a bare 长沙市 or 仓储区3号 is not an address.
- 姓名: every occurrence of the ``names`` given, and (``ner=True``) words jieba's tagger marks as
  person names (nr, nrfg; nrt only after a split-off surname) plus a name standing alone after a
  role word (负责人郑海波、). Tagged names are repaired where the tagger split them (刘/zg 海燕/nr,
  人马/云飞) and filtered: a common surname first, 2–4 Chinese characters, no given-name character
  that is really a function or administrative word (申请人, 易燃, 银行卡), not a word jieba's
  dictionary mislabels (陈述, 许可), not followed by a road/company word (黄龙路, 金鑫矿业).
  Names in ``keep`` are never returned.

Overlaps are resolved greedily: checksum-validated kinds (and e-mail) first, then longer spans,
then names from ``names`` before names from the tagger.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from archive.models import SpanKind
from pipelines.folding import compact, digit_chains, numeral_digits

__all__ = [
    "Detected",
    "credit_code_check_char",
    "credit_code_valid",
    "detect",
    "id_card_check_char",
    "id_card_valid",
    "luhn_valid",
    "normalise",
]


@dataclass(frozen=True)
class Detected:
    """One sensitive span: ``text == original[start:end]``."""

    kind: SpanKind
    start: int  # offset in the text (Python str index)
    end: int  # exclusive
    text: str


# --- normalisation ------------------------------------------------------------------------------


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in (0x00A0, *range(0x2000, 0x200B), 0x3000, *range(0xFF01, 0xFFEF)):
        folded = unicodedata.normalize("NFKC", chr(cp))
        if len(folded) == 1 and folded != chr(cp):
            table[cp] = folded
    return table


_FOLD = _fold_table()


def normalise(text: str) -> str:
    """Full-width ASCII and odd spaces folded (NFKC per character): same length as ``text``."""
    return text.translate(_FOLD)


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# --- validators ---------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits of a resident ID: the province-level division codes (GB/T 2260).
_PROVINCE_CODES = _words(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82"
)


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100


def id_card_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_card_valid(s: str) -> bool:
    """A resident ID: 18 characters with a valid check character, or a 15-digit pre-1999 ID.

    Both need a province code (11–82) and a real birth date (1900–2100); the 15-digit form has
    no check digit, so only those two are checked.
    """
    if len(s) == 18 and s[:17].isascii() and s[:17].isdigit():
        last = s[17].upper()
        if last != id_card_check_char(s[:17]):
            return False
        year, month, day = int(s[6:10]), int(s[10:12]), int(s[12:14])
    elif len(s) == 15 and s.isascii() and s.isdigit():
        year, month, day = 1900 + int(s[6:8]), int(s[8:10]), int(s[10:12])
    else:
        return False
    return s[:2] in _PROVINCE_CODES and _real_date(year, month, day)


def luhn_valid(s: str) -> bool:
    """Luhn (mod 10) check of a digit string; spaces and hyphens are ignored."""
    digits = s.replace(" ", "").replace("-", "")
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(_CREDIT_CHARS)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_AUTHORITIES = "123456789ANY"  # 登记管理部门码


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_valid(s: str) -> bool:
    """A 统一社会信用代码 (GB 32100-2015), upper case.

    18 characters from the code set, a registration-authority code (1–9, A, N, Y) first, a
    6-digit administrative division code at positions 3–8 and the right check character.
    """
    return (
        len(s) == 18
        and all(c in _CREDIT_VALUE for c in s)
        and s[0] in _CREDIT_AUTHORITIES
        and s[2:8].isdigit()
        and s[17] == credit_code_check_char(s[:17])
    )


# --- number-like detectors ----------------------------------------------------------------------

_SEP = "[ \\-\u2010-\u2015]"  # one separator inside a phone number: space, hyphen, dashes
_ID_RE = re.compile(r"(?<![0-9A-Za-z])[1-8][0-9]{5}(?:[0-9]{11}[0-9Xx]|[0-9]{9})(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(
    rf"(?<![0-9+])(?:(?:\+|00)?86{_SEP}?|\(\+?86\){_SEP}?)?"
    rf"1[3-9][0-9](?:[0-9]{{8}}|(?P<sep>{_SEP})[0-9]{{4}}(?P=sep)[0-9]{{4}})(?![0-9])"
)
_LANDLINE_RE = re.compile(
    rf"(?<![0-9])(?:\(0[1-9][0-9]{{1,2}}\){_SEP}?|0[1-9][0-9]{{1,2}}{_SEP}?)"
    rf"[2-9][0-9]{{2,3}}{_SEP}?[0-9]{{4}}(?:(?:转|分机|[\-\u2010-\u2015])[0-9]{{1,6}})?(?![0-9])"
)
_BANK_RE = re.compile(r"(?<![0-9A-Za-z])[2-69][0-9]{15,18}(?![0-9A-Za-z])")
_BANK_GROUPED_RE = re.compile(
    r"(?<![0-9])(?<![0-9][ -])[2-69][0-9]{3}(?:[ -][0-9]{4}){3}(?:[ -]?[0-9]{1,3})?(?![0-9])(?![ -][0-9])"
)
_CREDIT_RE = re.compile(
    r"(?<![0-9A-Za-z])[1-9ANY][0-9A-HJ-NPQRTUW-Y][0-9]{6}[0-9A-HJ-NPQRTUW-Y]{10}(?![0-9A-Za-z])"
)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_RE = re.compile(
    rf"[{_PROVINCES}][A-HJ-NP-Z][·•・‧∙ \-]?"
    r"(?P<serial>[A-HJ-NP-Z0-9]{6}|[A-HJ-NP-Z0-9]{4,5}[挂学警港澳]|[A-HJ-NP-Z0-9]{5})(?![0-9A-Za-z])"
)
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])")

_Cand = tuple[SpanKind, int, int]


def _id_cards(t: str) -> Iterator[_Cand]:
    for m in _ID_RE.finditer(t):
        if id_card_valid(m.group()):
            yield SpanKind.ID_CARD, m.start(), m.end()


def _mobiles(t: str) -> Iterator[_Cand]:
    for m in _MOBILE_RE.finditer(t):
        yield SpanKind.MOBILE, m.start(), m.end()


def _landlines(t: str) -> Iterator[_Cand]:
    for m in _LANDLINE_RE.finditer(t):
        yield SpanKind.LANDLINE, m.start(), m.end()


def _bank_cards(t: str) -> Iterator[_Cand]:
    for rx in (_BANK_RE, _BANK_GROUPED_RE):
        for m in rx.finditer(t):
            digits = m.group().replace(" ", "").replace("-", "")
            if 16 <= len(digits) <= 19 and luhn_valid(digits) and not id_card_valid(digits):
                yield SpanKind.BANK_CARD, m.start(), m.end()


def _credit_codes(t: str) -> Iterator[_Cand]:
    for m in _CREDIT_RE.finditer(t):
        if credit_code_valid(m.group()):
            yield SpanKind.CREDIT_CODE, m.start(), m.end()


def _plates(t: str) -> Iterator[_Cand]:
    for m in _PLATE_RE.finditer(t):
        serial = m.group("serial")
        body = serial.rstrip("挂学警港澳")
        if not any(c.isdigit() for c in body):
            continue
        if len(serial) == 6 and serial[0] not in "DF" and serial[5] not in "DF":
            continue  # six characters only on new-energy plates (D/F for electric/hybrid)
        yield SpanKind.PLATE, m.start(), m.end()


def _emails(t: str) -> Iterator[_Cand]:
    for m in _EMAIL_RE.finditer(t):
        yield SpanKind.EMAIL, m.start(), m.end()


# --- numbers as a reader joins them -------------------------------------------------------------


def _bank_shape(sizes: tuple[int, ...]) -> bool:
    """Groupings a card number is written in: whole, by fours, 6+rest, split once by a line break,
    or one digit per box; not an arbitrary run of short numbers (Luhn alone passes one in ten)."""
    return len(sizes) <= 2 or all(n == 4 for n in sizes[:-1]) or all(n == 1 for n in sizes)


def _chained_numbers(t: str, *, spoken: bool = False) -> Iterator[_Cand]:
    """Numbers written in groups: "139 0431 8866", "220122 19850315 4214", "430103⏎199001011237",
    "139.0431.8866", one digit per box; Chinese numerals count as digits (folding.numeral_digits).
    ``spoken``: any other run of 7 or more digits too (a transcript of a number read aloud)."""
    for chain in digit_chains(t):
        for digits, start, end, sizes in chain.windows(t):
            n = len(digits)
            if n in (15, 18) and id_card_valid(digits.upper()):
                yield SpanKind.ID_CARD, start, end
            elif n in (11, 13) and re.fullmatch("(?:86)?1[3-9][0-9]{9}", digits):
                yield SpanKind.MOBILE, start, end
            elif 16 <= n <= 19 and digits[0] in "234569" and luhn_valid(digits) and _bank_shape(sizes):
                yield SpanKind.BANK_CARD, start, end
            elif (
                10 <= n <= 12
                and digits[0] == "0"
                and sizes[0] in (3, 4)
                and digits[sizes[0]] in "23456789"
                and 7 <= n - sizes[0] <= 8
            ):
                yield SpanKind.LANDLINE, start, end
            elif spoken and n >= 7 and len(sizes) == len(chain.groups):
                yield SpanKind.OTHER, start, end
    if spoken:
        for m in re.finditer(r"[0-9]{7,}", t):
            yield SpanKind.OTHER, m.start(), m.end()


def _compact_candidates(t: str, names: Iterable[str], requester: Any) -> Iterator[tuple[int, _Cand]]:
    """Credit codes, addresses and the case's names written across whitespace or a line break."""
    view = compact(t)
    if len(view.text) == len(t):
        return
    for kind, start, end in itertools.chain(_credit_codes(view.text), _addresses(view.text)):
        a, b = view.span(start, end)
        if b - a > end - start:  # it crosses whitespace: the plain text cannot have found it
            yield (0 if kind is SpanKind.CREDIT_CODE else 1), (kind, a, b)
    for name in names:
        for start, end in _occurrences(view.text, name):
            a, b = view.span(start, end)
            if b - a > end - start and not requester(a, b):
                yield 1, (SpanKind.PERSON, a, b)


# --- addresses ----------------------------------------------------------------------------------

# A character of a place name: Chinese, but not a particle that never sits inside one.
_NAME_CH = "(?:(?![的了是在并将被把及或])[\u3400-\u4dbf\u4e00-\u9fff])"
_PROV_NAMES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|"
    "四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_PROV = rf"(?:{_PROV_NAMES})(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
_AUTO = rf"{_NAME_CH}{{2,8}}?自治(?:区|州|县|旗)"
# Suffixes of administrative divisions. Look-behinds drop common words: 超市, 城市, 小区, 厂区 …
_STRONG_SUFFIXES = ("省", "市", "州", "盟", "县", "旗", "地区")
_ADMIN_SUF = (
    "(?:街道办事处|街道|开发区|高新区|经开区|新区|地区|省|(?<![超门夜菜集早股花鸟黑城上])市|州(?!市)|盟|县|旗"
    "|(?<![小社园厂库储辖景校营郊禁灾矿作活公])区|(?<![城])镇|(?<![城家下老故同还])乡|苏木)"
)
_ADMIN = rf"{_NAME_CH}{{1,4}}?{_ADMIN_SUF}"
_ROAD = rf"{_NAME_CH}{{1,6}}?(?:大道|大街|胡同|路|街|巷|弄)(?:[东西南北中]?段)?"
_PLACE = (
    rf"{_NAME_CH}{{1,8}}?(?:村民委员会|居民委员会|村委会|居委会|社区|小区|花园|大厦|广场|公寓|新村|工业园|产业园|"
    "家园|山庄|大院|中心|村|庄|屯|寨|苑|园|城|院|里|坊)"
)
_NUMERAL = "第?(?:[0-9]+(?:-[0-9]+)*[A-Za-z]?|[A-Za-z][0-9]*|[零〇一二三四五六七八九十百千两]+)"
_TERMINAL_SUF = "(?:号楼|号院|号|栋|幢|座|单元|层|楼|室|组|户|队)"
_NUM = f"{_NUMERAL}(?:{_TERMINAL_SUF}|段|期|区|排|社|弄|巷|支弄)"
_TERMINAL = f"{_NUMERAL}{_TERMINAL_SUF}"
_COMPONENT_RE = re.compile(
    f"(?P<prov>{_PROV})|(?P<auto>{_AUTO})|(?P<admin>{_ADMIN})|(?P<road>{_ROAD})|(?P<place>{_PLACE})|(?P<num>{_NUM})"
)
_COMPONENT = f"(?>{_PROV}|{_AUTO}|{_ADMIN}|{_ROAD}|{_PLACE}|{_NUM})"
_ADDRESS_RE = re.compile(f"{_COMPONENT}*(?>{_TERMINAL})")
_SUFFIX_RE = re.compile(
    f"(?:{_ADMIN_SUF}|自治(?:区|州|县|旗)|大道|大街|胡同|路|街|巷|弄|村民委员会|居民委员会|村委会|居委会|社区|小区|"
    "花园|大厦|广场|公寓|新村|工业园|产业园|家园|山庄|大院|中心|村|庄|屯|寨|苑|园|城|院|里|坊)(?:[东西南北中]?段)?$"
)
# Characters ending the words that lead into an address (住、位于、地址、前往、来到、驶入 …).
_LEAD_IN = frozenset("住址于至到往赴自从对向为系是点所处地居即寄落籍贯回入驶")


def _trim_lead_in(name: str) -> int:
    """How many leading characters of the first component's name are lead-in words, not place."""
    for i in range(len(name) - 2, 0, -1):
        if name[i - 1] in _LEAD_IN:
            return i
    return 0


def _address_at(t: str, start: int, end: int) -> tuple[int, int] | None:
    """Check a candidate chain ``t[start:end]``: trimmed start and end, or None if not an address."""
    kinds: list[str] = []
    pos = start
    first = True
    while pos < end:
        m = _COMPONENT_RE.match(t, pos, end)
        if m is None:
            break
        kind = m.lastgroup or ""
        if first and kind != "prov" and kind != "num":
            suffix = _SUFFIX_RE.search(m.group())
            name_len = len(m.group()) - (len(suffix.group()) if suffix else 0)
            start += _trim_lead_in(m.group()[:name_len])
        first = False
        if kind == "admin":
            strong = m.group().endswith(_STRONG_SUFFIXES)
            kinds.append("strong" if strong else "weak")
        elif kind in ("prov", "auto"):
            kinds.append("strong")
        else:
            kinds.append(kind)
        pos = m.end()
    admin = sum(k in ("strong", "weak") for k in kinds)
    local = any(k in ("road", "place") for k in kinds)
    if admin and (local or admin >= 2):
        return start, end
    return None


def _addresses(t: str) -> Iterator[_Cand]:
    for m in _ADDRESS_RE.finditer(t):
        span = _address_at(t, m.start(), m.end())
        if span is not None:
            yield SpanKind.ADDRESS, span[0], span[1]


# --- person names -------------------------------------------------------------------------------

_SURNAMES_1 = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
    "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝郜海阚花权强帅屠豆朴盖练廉禹井祖"
    "漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊母裘亓修邰赫杭况那宿鲜印逯隆茹诸"
    "战慕危玉银亢嵩尉"
)
_SURNAMES_2 = _words(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 澹台 端木 "
    "轩辕 独孤 南宫 西门 百里 呼延 万俟 闻人 东郭 申屠 钟离"
)
# Words jieba's dictionary tags as person names that are ordinary words in enforcement records.
_NOT_NAMES = _words(
    "陈述 陈列 许可 林立 明白 文明 公正 周转 周密 周全 周详 周旋 杜绝 关怀 康复 保健 "
    "养老 查明 张贴 盖章 矫正 宁可 原谅 修正 廉政 施政 安危 安抚 安静 常青 向阳 向东 "
    "宝贵 光荣 光辉 卫星 温馨 张开 张扬 张望 张罗 张口 张嘴 晋升 晋级 弘扬 祝贺 祝福 "
    "容纳 明文 明智 明朗 拓宽 屠宰 洪水 田野 白白 封锁 严正 从政 汪洋 叶子 高明 高峰 "
    "高潮 黄金 黄金周 安全检查 建立健全 顾问 顾客 权威 智慧 友谊 宣言 师傅 马匹 华丽 "
    "祖先 金属 石油 石化 江山 华为 沙滩 温泉 红旗 卓越 慈善 吉祥 梅花 雷达 武功 道德 "
    "荣誉 荣获 阳光 明星 宫殿 古老 言语 冷笑 任凭 和睦 和善 宋体 司马 欧阳 万世 成仁 "
    "满怀 柴禾 米粉 玉米 常德 连同 连续 连带 安监站 通知书 "
    "欧姆 安培 伏特 焦耳 瓦特 牛顿 帕斯卡 赫兹"  # units of measurement in test reports
)
_NAME_TAGS = frozenset({"nr", "nrfg"})
_FUNCTION_TAGS = frozenset("pcudrv")  # first letter of jieba tags: preposition, conjunction, particle …
# A name is not a name when a road, a place or a company name goes on right after it.
_AFTER_NOT_NAME_1 = frozenset("路街巷镇乡村县区市省局厂店站")
_AFTER_NOT_NAME_2 = _words(
    "矿业 化工 物流 建筑 工程 科技 实业 贸易 商贸 集团 公司 有限 超市 酒店 宾馆 饭店 "
    "商店 药店 加油 烟花 建材 机械 五金 纺织 食品 电子 汽修 汽车 木业 能源 燃气 钢铁 "
    "水泥 餐饮 物业 置业 地产 投资 印刷 包装 塑料 家具 服装 运输 仓储 商行 门市 批发 "
    "农机 大道 大街 胡同 小区 社区 花园 大厦 广场"
)
_CJK_NAME = re.compile("[\u4e00-\u9fff]{2,4}")
_CJK_CHAR = re.compile("[\u4e00-\u9fff]")
# Characters (almost) never in a given name but everywhere in enforcement prose: 申请人, 易燃,
# 银行卡, 索引, 陈述属实, 王某 are not names; nor is 张三说 (说 does not finish the name).
_NOT_GIVEN = frozenset(
    "的了着过是在不没无其该此这那等及与或并而被把将对向从由于以为因但就都也还又再已曾要会能应须需得让使令据按"
    "经后前内外上下时年日次条款项目份个名类种型期量额率度性式法律规则制管理检测验整改罚缴纳签字章印录记笔询"
    "问答说称讲认确核批准申报告知送执判决议诉讼违犯罪案件事故隐患险危燃爆炸毒害废污染排放装置设备施器材料液"
    "体气油罐库仓储输车船机电线路网系统数据索帧键值档卷页请人卡引谢述未审查某属证单表号码费局厅部站厂店司所"
    "院室科组队员者们吗呢吧啊么什怎谁哪您你我他她它自己"
)

# A name right after a role word (负责人郑海波、 / 记录人：吴国庆。) that the tagger did not see.
_ROLES = (
    "被询问人|询问人|记录人|见证人|证人|当事人|负责人|法定代表人|法人代表|委托代理人|代理人|受送达人|送达人|"
    "被检查人|联系人|陪同人员|安全员|管理员|驾驶员|司机|经理|厂长|主任|股东|户主|申请人|签收人|承办人|姓名"
)
_ROLE_NAME_RE = re.compile(
    f"(?:{_ROLES})[:：]?[ \t]*(?P<name>[\u4e00-\u9fff]{{2,4}}?)(?=[、，。；：:,;\\s）)]|$)"
)
_ROLE_END_RE = re.compile(f"(?:{_ROLES})[:：]?$")
_pos_lock = threading.Lock()
_pos_tokenizer: Any = None


def _tagger_tables() -> tuple[dict[str, int], int, dict[str, str]]:
    """The tagger's prefix dictionary, total and word tags, built from jieba's dictionary plus the
    domain dictionary the way jieba builds them (~3 s), then kept in the user's cache directory."""
    import jieba
    import jieba.posseg

    from indexer.analysis import DOMAIN_DICT, cached, jieba_dictionary

    def build() -> tuple[dict[str, int], int, dict[str, str]]:
        tok = jieba.Tokenizer()
        with jieba_dictionary().open("rb") as fh:
            tok.FREQ, tok.total = tok.gen_pfdict(fh)
        tok.initialized = True
        tok.load_userdict(str(DOMAIN_DICT))
        pos = jieba.posseg.POSTokenizer(tok)
        pos.makesure_userdict_loaded()
        return tok.FREQ, tok.total, pos.word_tag_tab

    def valid(data: object) -> bool:
        return (
            isinstance(data, tuple)
            and len(data) == 3
            and isinstance(data[0], dict)
            and isinstance(data[1], int)
            and isinstance(data[2], dict)
            and bool(data[0])
            and bool(data[2])
        )

    return cached("tagger", [jieba_dictionary(), DOMAIN_DICT], build, valid)


def _tagger() -> Any:
    """jieba's POS tagger on its own dictionary plus the domain dictionary, loaded once.

    Its tables come from :func:`_tagger_tables` (jieba's own initialisation would parse the
    dictionary twice and write a cache file to the system temp directory).
    """
    global _pos_tokenizer
    with _pos_lock:
        if _pos_tokenizer is None:
            import jieba
            import jieba.posseg

            freq, total, tags = _tagger_tables()
            tok = jieba.Tokenizer()
            tok.FREQ, tok.total, tok.initialized = freq, total, True
            pos = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
            pos.tokenizer, pos.word_tag_tab = tok, tags  # what POSTokenizer.__init__ would read
            _pos_tokenizer = pos
        return _pos_tokenizer


def warm_up_tagger() -> None:
    """Load the name tagger now rather than on the first text that needs it."""
    _tagger()


def _plausible_name(t: str, word: str, end: int) -> bool:
    """Surname first, a given name of name characters, no road or company name right after."""
    if not _CJK_NAME.fullmatch(word) or word in _NOT_NAMES:
        return False
    if word[0] not in _SURNAMES_1 and word[:2] not in _SURNAMES_2:
        return False
    given = word[2:] if word[:2] in _SURNAMES_2 else word[1:]
    if not given or any(c in _NOT_GIVEN for c in given):
        return False
    return t[end : end + 1] not in _AFTER_NOT_NAME_1 and t[end : end + 2] not in _AFTER_NOT_NAME_2


def _tagged_names(t: str) -> Iterator[_Cand]:
    """Person names from jieba.posseg, with a surname split off by the tagger put back."""
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    for pair in _tagger().cut(t):
        word, flag = pair.word, pair.flag
        at = pos if t.startswith(word, pos) else t.find(word, pos)
        if at < 0:
            continue
        tokens.append((word, flag, at))
        pos = at + len(word)
    for i, (word, flag, at) in enumerate(tokens):
        if flag not in _NAME_TAGS and flag != "nrt":
            continue
        start, end = at, at + len(word)
        if i > 0:  # 刘/zg 海燕/nr, 欧阳/ns 娜娜/nrt: the tagger split the surname off
            prev, prev_flag, prev_at = tokens[i - 1]
            joined = prev_at + len(prev) == at and len(word) <= 2
            function_word = prev_flag[:1] in _FUNCTION_TAGS  # 向/p 李明, 和/c 李明
            if joined and not function_word and (prev in _SURNAMES_1 or prev in _SURNAMES_2):
                start = prev_at
        if i + 1 < len(tokens) and end - start == 2:  # 赵国/nr 燕/nr; 孙涛/nr 海/n ，
            nxt, nxt_flag, nxt_at = tokens[i + 1]
            dangling = i + 2 == len(tokens) or not _CJK_CHAR.match(tokens[i + 2][0])
            if (
                len(nxt) == 1
                and nxt_at == end
                and _CJK_CHAR.match(nxt)
                and (nxt_flag == "nr" or (dangling and nxt not in _NOT_GIVEN))
            ):
                end += 1
        if (
            end - start == 2
            and start > 0
            and t[start - 1] in _SURNAMES_1
            and _ROLE_END_RE.search(t, max(0, start - 10), start - 1)
        ):
            start -= 1  # 负责/v 人马/n 云飞/nr: the surname went to the word before
        if flag == "nrt" and start == at:
            continue  # transliterations (瓦斯, 哈拉) only count with a surname in front
        if _plausible_name(t, t[start:end], end):
            yield SpanKind.PERSON, start, end


def _role_names(t: str) -> Iterator[_Cand]:
    """Names standing alone right after a role word, ended by punctuation."""
    for m in _ROLE_NAME_RE.finditer(t):
        start, end = m.span("name")
        if _plausible_name(t, m.group("name"), end):
            yield SpanKind.PERSON, start, end


def _occurrences(t: str, needle: str) -> Iterator[tuple[int, int]]:
    i = t.find(needle)
    while i >= 0:
        yield i, i + len(needle)
        i = t.find(needle, i + 1)


# --- resolution ---------------------------------------------------------------------------------

_VALIDATED = (SpanKind.EMAIL, SpanKind.ID_CARD, SpanKind.CREDIT_CODE, SpanKind.BANK_CARD)


def _resolve(cands: list[tuple[int, _Cand]]) -> list[_Cand]:
    """Greedy: lower tier first, then longer, then the kind order of ``_VALIDATED``; no overlaps."""

    def key(c: tuple[int, _Cand]) -> tuple[int, int, int, int, str]:
        tier, (kind, start, end) = c
        order = _VALIDATED.index(kind) if kind in _VALIDATED else len(_VALIDATED)
        return tier, start - end, order, start, kind.value

    starts: list[int] = []
    ends: list[int] = []
    chosen: list[_Cand] = []
    for _, cand in sorted(set(cands), key=key):
        _, start, end = cand
        i = bisect.bisect_left(starts, start)
        if i > 0 and ends[i - 1] > start:
            continue
        if i < len(starts) and starts[i] < end:
            continue
        starts.insert(i, start)
        ends.insert(i, end)
        chosen.insert(i, cand)
    return chosen


def detect(
    text: str,
    *,
    names: Iterable[str] = (),
    keep: Iterable[str] = (),
    ner: bool = True,
    spoken: bool = False,
) -> list[Detected]:
    """Non-overlapping spans sorted by start.

    ``names``: persons to find wherever they occur (parties, witnesses other than the requester;
    names shorter than 2 characters are ignored); ``keep``: the requester's own names, never
    returned as 姓名 (a name span overlapping one is dropped unless it strictly contains it: 张三丰
    is not 张三); ``ner``: also find names with jieba's tagger and after role words (证人、负责人…);
    ``spoken``: the text is a transcript, so any run of 7 or more digits is hidden too (a number
    read aloud is rarely transcribed whole).

    Numbers are also found as a reader joins them: groups split by spaces, line breaks or one
    separator, Chinese numerals and full-width digits; names and codes across line breaks.
    """
    t = normalise(text)
    names = [names] if isinstance(names, str) else names
    keep = [keep] if isinstance(keep, str) else keep
    keep_names = {k for k in (normalise(k).strip() for k in keep) if k}
    kept = [span for k in keep_names for span in _occurrences(t, k)]

    def requester(start: int, end: int) -> bool:
        """Overlaps an occurrence of a kept name without strictly containing it (张三 in 张三丰)."""
        return any(
            ks < end and start < ke and not (start <= ks and ke <= end and end - start > ke - ks)
            for ks, ke in kept
        )

    cands: list[tuple[int, _Cand]] = []
    digits = numeral_digits(t)  # same length: 一三九… and １３９… read as the digits they are
    for view in {t, digits}:
        for detector in (_emails, _id_cards, _credit_codes, _bank_cards):
            cands.extend((0, c) for c in detector(view))
        for detector in (_mobiles, _landlines, _plates, _addresses):
            cands.extend((1, c) for c in detector(view))
    for c in _chained_numbers(digits, spoken=spoken):
        cands.append((0 if c[0] in _VALIDATED else 2 if c[0] is SpanKind.OTHER else 1, c))
    wanted_names = {n for n in (normalise(n).strip() for n in names) if len(n) >= 2} - keep_names
    for name in wanted_names:
        cands.extend((1, (SpanKind.PERSON, s, e)) for s, e in _occurrences(t, name) if not requester(s, e))
    cands.extend(_compact_candidates(t, wanted_names, requester))
    if ner and _CJK_CHAR.search(t):
        for kind, start, end in itertools.chain(_tagged_names(t), _role_names(t)):
            if not requester(start, end):
                cands.append((2, (kind, start, end)))
    return [Detected(kind, start, end, text[start:end]) for kind, start, end in _resolve(cands)]
