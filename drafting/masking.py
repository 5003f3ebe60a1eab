"""The model-facing version of a past summary's text: style kept, figures and names masked.

Retrieved examples teach tone and phrasing only. A small model shown an example with figures
(or with slots such as `xx名`) copies them, so every figure, placeholder and proper name is
replaced by a neutral tag before an example reaches a prompt:

- 〔数〕 for figures: any Arabic number with its unit and hedges (`90多万元`, `53.3%`,
  `5月5日`, `3-5家`), Chinese-numeral quantities of two or more (`两百元`, `四位`, `第三名`),
  Chinese-numeral dates, and number placeholders (`20xx年`, `xx名`, `2x14`, `x。xx万元`);
- 〔名〕 for names: people, places and companies found by jieba.posseg (nr/ns, filtered, see
  `_name_spans`), name placeholders (`**区`, `xx街道`, `XX市`) and any other 〔…〕 slot.

Fixed formulae that merely contain numerals (三个代表, 十三五, 五一, 两节, 第一书记 …) are
kept: they are style, not figures. List enumerators at line start (`1、`, `(2)`) are dropped,
so that the masked text holds no digit at all.

The figure spans come from this module's own regular expressions; `drafting.figures` (the
checker's extractor) did not exist when this was written.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

NUM_TAG = "〔数〕"
NAME_TAG = "〔名〕"

_CN_DIGIT = "零〇○一二两三四五六七八九十百千万亿"
# A Chinese numeral worth masking: two or more (a bare 一 is an article: 一次, 一批), or a
# hedged round number (上百, 几十, 近千).
_CN_NUM = rf"(?:[零〇○两二三四五六七八九十]|一(?=[十百千万亿])|(?<=[上几近])[十百千万])[{_CN_DIGIT}]*"
# Approximation words that belong to a figure (kept inside the masked span).
_PRE = r"(?:约|近|超过|逾|不少于|上(?=[百千万])|几(?=[十百千万]))?"
_HEDGE = r"(?:多|余|来)?"
_POST = r"(?:多|余)?(?:左右|以上|以下|之多)?"
_UNITS = (
    "元|"
    "人次|名次|场次|户次|批次|班次|个百分点|百分点|"
    "年度|年|个月|月份|月|日|号|天|周|小时|季度|"
    "人|名|位|家|个|户|所|次|场|期|项|条|篇|件|份|册|本|套|部|台|辆|支|队|组|届|批|起|宗|"
    "张|幅|块|间|座|处|站|亩|平方米|平米|㎡|m3|米|公里|千米|吨|箱|斤|岁|课时|学时|"
    "%|％|﹪|‰"
)
_DEC = r"(?:[.．。·](?:[0-9０-９]+|[xX×]+))?"
_SCALE = r"(?:[万亿千百](?:多|余)?)?"
# An Arabic number, possibly with placeholders in it (2x14, 201*), or a pure x/X placeholder
# (xx名, XX年). A bare xx ties with the name placeholder below, and the name wins (xx街道).
_NUMBER = r"(?<![A-Za-z])(?:(?=[0-9０-９xX×*]*[0-9０-９])[0-9０-９xX×*]+|[xX×ｘＸ]+)(?![A-Za-z])"
_ATOM = rf"{_PRE}{_NUMBER}{_DEC}{_HEDGE}{_SCALE}(?:{_UNITS})?{_POST}"
_RANGE_SEP = r"(?:-|－|—|–|~|～|至|到|、)"
_ARABIC_FIGURE = re.compile(rf"{_ATOM}(?:{_RANGE_SEP}?{_ATOM})*")
_CN_ATOM = rf"{_PRE}(?:百分之{_CN_NUM}(?:点{_CN_NUM})?|{_CN_NUM}{_HEDGE}(?:{_UNITS}|[万亿千百]){_POST})"
_CN_FIGURE = re.compile(rf"{_CN_ATOM}(?:{_RANGE_SEP}?{_CN_ATOM})*")
_ORDINAL = re.compile(
    rf"(?:第|前)[{_CN_DIGIT}0-9０-９]+(?:名|届|次|批|期|季度|等奖|轮)|首届|[一二三四五六七八九十]+(?:、[一二三四五六七八九十]+)*等(?:奖|功)"
)
_CN_YEAR = re.compile(r"[二〇○零一三四五六七八九0_]{2,4}[_＿]*年")
# Placeholders for names: **区, xx街道, XX市, xxxx区总工会 …; also a bare ** or __.
_NAME_PLACEHOLDER = re.compile(r"[*＊]{2,}|(?<![A-Za-z])[xX×ｘＸ]+(?![A-Za-z])")
_BLANK = re.compile(r"[_＿]{2,}|[~～](?=年)")
_SLOT = re.compile(r"〔[^〔〕]{0,20}〕")
_ANY_DIGIT = re.compile(r"[0-9０-９]+")
_LIST_MARK = re.compile(r"^\s*(?:[0-9０-９]{1,2}\s*[、.．)）](?![0-9])|[(（][0-9０-９]{1,2}[)）]\s*[、.．]?)", re.M)
_REPEATED_TAG = re.compile(r"(〔[数名]〕)(?:\s*[、和及至\-—~]?\s*\1)+")

# Fixed formulae with numerals: style, never figures (kept verbatim).
_LEXICON = re.compile(
    "|".join(
        (
            r"三个代表", r"两个(?:维护|确立|普遍|务必)", r"四个(?:意识|自信|全面)", r"三个建设",
            r"[一二三四五六七八九]个(?:工程|年)", r"十[一二三四五六七八九]?五", r"[“\"]?[七八九]五[”\"]?普法",
            r"十[一二三四五六七八九][届大](?:[一二三四五六七八九]中全会)?",
            r"全总[一二三四五六七八九十]+届[一二三四五六七八九十]+次执委会",
            r"五[一·.]", r"三[八·.]八?", r"六一", r"七夕", r"三月三", r"两节", r"双节", r"两新", r"三有",
            r"红五月", r"三会一课", r"一岗双责", r"一户一策", r"第一书记", r"第一责任人", r"第一手",
            r"一线", r"千篇一律", r"四场硬仗", r"六为六新", r"世界500强", r"百人以上", r"三级联创",
            r"一法[一二三四五六七八九十]条例", r"八荣八耻", r"三留守",
        )
    )
)

# Words jieba tags nr/ns that are ordinary vocabulary in this genre (never masked).
_NOT_NAMES = frozenset(
    "中国 全国 新区 新建 上门 上街 登山 城市 城镇 普及 惠及 广大干部 新春 福利 治安 青春 喜庆 扎根 "
    "铺平 缅怀 太阳 高原 各乡镇 镇乡 新高峰 累累硕果 桥头堡 加大力度 确保安全 文明城市 重阳 三区 五区 "
    "二本 三中 和省 和县 广纳 包联 西瓜 安 美 镇 双亮 文休".split()
)
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池乜厉"
)
_COMPANY_END = frozenset("公司 有限公司 有限责任公司 股份有限公司 集团 集团公司 分公司 电厂 厂".split())
_COMPANY_BODY_POS = frozenset("n ns nr nz nt nrt nrfg j l t vn eng".split())
_PROPER_POS = frozenset("ns nr nz nrt nrfg eng".split())


def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba


@lru_cache(maxsize=1)
def masking_version() -> str:
    """A fingerprint of the masking rules (this file and jieba's version).

    Stored with each indexed section, so that changing the rules re-masks and re-embeds.
    """
    import jieba

    digest = hashlib.sha1(Path(__file__).read_bytes())
    digest.update(jieba.__version__.encode())
    return digest.hexdigest()[:12]


def _is_name(word: str, flag: str, freq: dict[str, int]) -> bool:
    if word in _NOT_NAMES or len(word) < 2:
        return False
    if flag.startswith("nr"):
        # Dictionary person words are mostly ordinary vocabulary (文明, 荣获) or public figures;
        # the names of clerks and workers are unknown words found by the HMM.
        return not freq.get(word) and len(word) <= 4 and word[0] in _SURNAMES
    if flag == "ns":
        return True
    return False


def _name_spans(text: str) -> list[tuple[int, int]]:
    """Person, place and company names, by jieba.posseg plus a company-name walk."""
    jieba = _jieba()
    freq = jieba.dt.FREQ
    tokens = []
    pos = 0
    for pair in jieba.posseg.cut(text):
        tokens.append((pos, pos + len(pair.word), pair.word, pair.flag))
        pos += len(pair.word)
    spans = [(s, e) for s, e, w, f in tokens if _is_name(w, f, freq)]
    # A company name: the tokens before 公司/集团/厂 back to the first non-noun, when at least
    # one of them is a proper noun or unknown word (so generic 集团公司 stays).
    for i, (start, end, word, _flag) in enumerate(tokens):
        if word not in _COMPANY_END:
            continue
        j = i
        proper = False
        while j > 0 and i - j < 6:
            _s, _e, w, f = tokens[j - 1]
            if f not in _COMPANY_BODY_POS and not (f == "x" and w.isalnum()):
                break
            proper = proper or f in _PROPER_POS or not freq.get(w)
            j -= 1
        if j < i and proper:
            spans.append((tokens[j][0], end))
    return spans


def _figure_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for pattern in (_ORDINAL, _CN_YEAR, _CN_FIGURE, _ARABIC_FIGURE):
        spans.extend((m.start(), m.end(), NUM_TAG) for m in pattern.finditer(text) if m.group().strip())
    return spans


def _apply(text: str, spans: list[tuple[int, int, str]], protected: list[tuple[int, int]]) -> str:
    """Replace non-overlapping spans (earliest, then longest wins), skipping protected ones."""
    def clashes(s: int, e: int) -> bool:
        return any(s < pe and ps < e for ps, pe in protected)

    chosen: list[tuple[int, int, str]] = []
    for s, e, tag in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]))):
        if e <= s or clashes(s, e) or (chosen and s < chosen[-1][1]):
            continue
        chosen.append((s, e, tag))
    out, last = [], 0
    for s, e, tag in chosen:
        out.append(text[last:s])
        out.append(tag)
        last = e
    out.append(text[last:])
    return "".join(out)


def mask(text: str) -> str:
    """The model-facing version of `text`: figures → 〔数〕, names → 〔名〕, no digits left."""
    text = _LIST_MARK.sub("", text)
    text = _SLOT.sub(lambda m: m.group() if m.group() in (NUM_TAG, NAME_TAG) else NAME_TAG, text)
    protected = [m.span() for m in _LEXICON.finditer(text)]
    protected += [m.span() for m in re.finditer("〔[数名]〕", text)]
    # Name placeholders first: on a tie (a bare xx) the name wins over the figure.
    spans = [(m.start(), m.end(), NAME_TAG) for m in _NAME_PLACEHOLDER.finditer(text)]
    spans += _figure_spans(text)
    spans += [(s, e, NAME_TAG) for s, e in _name_spans(text)]
    spans += [(m.start(), m.end(), NUM_TAG) for m in _BLANK.finditer(text)]
    masked = _apply(text, spans, protected)
    # Whatever digit survived (inside a protected formula like 世界500强, or a code like 324国道)
    # is masked too: the model-facing text carries no digit at all.
    masked = _ANY_DIGIT.sub(NUM_TAG, masked)
    return _REPEATED_TAG.sub(r"\1", masked)
