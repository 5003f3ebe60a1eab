"""The model-facing version of a past summary's text: style kept, figures and names masked.

Retrieved examples teach tone and phrasing only. A small model shown an example with figures
(or with slots such as `xx名`) copies them, so every figure, placeholder and proper name is
replaced by a neutral tag before an example reaches a prompt:

- 〔数〕 for figures: the spans that the checker's extractor (`drafting.checker.extract`, the
  single source of truth) classes FACT (`90多万元`, `53.3%`, `5月5日`, `3-5家`, `第三名`,
  `三届二次`), and number placeholders (`20xx`, `2x14`, `xx` before a unit, `x。xx万元`);
- 〔名〕 for names: people, places and companies found by jieba.posseg (nr/ns, filtered, see
  `_name_spans`), name placeholders (`**区`, `xx街道`, `XX市`) and any other 〔…〕 slot.

What the extractor classes LEXICON, STRUCTURE or SOFT (三个代表, 十三五, 五一, 一是, 一次) is
style and kept. List enumerators at line start (`1、`, `(2)`) are dropped, and any digit still
left (inside 世界500强, 324国道) is masked, so that the masked text holds no digit at all.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

NUM_TAG = "〔数〕"
NAME_TAG = "〔名〕"

# A placeholder that stands for a number (20xx, 2x14, xx名, 万元 with its figure deleted);
# any other placeholder (**区, xx街道, x晚报, “”) stands for a name.
_NUMBER_PLACEHOLDER = re.compile(r"[0-9０-９年月日万亿元%％]")
_UNIT_AFTER = re.compile(r"(?:多|余)?[年月日号名人位家个户所次场期项条篇件份册万亿元岁宗起届批%％]")
_SLOT = re.compile(r"〔[^〔〕]{0,20}〕")
_ANY_DIGIT = re.compile(r"[0-9０-９]+")
_LIST_MARK = re.compile(r"^\s*(?:[0-9０-９]{1,2}\s*[、.．)）](?![0-9])|[(（][0-9０-９]{1,2}[)）]\s*[、.．]?)", re.M)
_REPEATED_TAG = re.compile(r"(〔[数名]〕)(?:\s*[、和及至\-—~]?\s*\1)+")

# Words jieba tags nr/ns that are ordinary vocabulary in this genre (never masked).
_NOT_NAMES = frozenset(
    ["中国", "全国", "新区", "新建", "上门", "上街", "登山", "城市", "城镇", "普及", "惠及", "广大干部", "新春", "福利", "治安", "青春", "喜庆", "扎根", "铺平", "缅怀", "太阳", "高原", "各乡镇", "镇乡", "新高峰", "累累硕果", "桥头堡", "加大力度", "确保安全", "文明城市", "重阳", "三区", "五区", "二本", "三中", "和省", "和县", "广纳", "包联", "西瓜", "安", "美", "镇", "双亮", "文休"]
)
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池乜厉"
)
_COMPANY_END = frozenset(["公司", "有限公司", "有限责任公司", "股份有限公司", "集团", "集团公司", "分公司", "电厂", "厂"])
_COMPANY_BODY_POS = frozenset(["n", "ns", "nr", "nz", "nt", "nrt", "nrfg", "j", "l", "t", "vn", "eng"])
_PROPER_POS = frozenset(["ns", "nr", "nz", "nrt", "nrfg", "eng"])


def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba


@lru_cache(maxsize=1)
def masking_version() -> str:
    """A fingerprint of the masking rules (this file, the figure extractor, jieba's version).

    Stored with each indexed section, so that changing the rules re-masks and re-embeds.
    """
    import jieba

    import drafting.checker

    digest = hashlib.sha1(Path(__file__).read_bytes())
    for source in sorted(Path(drafting.checker.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    digest.update(jieba.__version__.encode())
    return digest.hexdigest()[:12]


def _is_name(word: str, flag: str, freq: dict[str, int]) -> bool:
    if word in _NOT_NAMES or len(word) < 2:
        return False
    if flag.startswith("nr"):
        # Dictionary person words are mostly ordinary vocabulary (文明, 荣获) or public figures;
        # the names of clerks and workers are unknown words found by the HMM.
        return not freq.get(word) and len(word) <= 4 and word[0] in _SURNAMES
    return flag == "ns"


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
    for i, (_start, end, word, _flag) in enumerate(tokens):
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
    """FACT figures and placeholders from the checker's extractor, with their tag."""
    from drafting.checker import FACT, PLACEHOLDER, extract

    spans = []
    for figure in extract(text):
        if figure.cls == FACT:
            spans.append((figure.start, figure.end, NUM_TAG))
        elif figure.cls == PLACEHOLDER:
            numeric = _NUMBER_PLACEHOLDER.search(figure.text) or _UNIT_AFTER.match(text, figure.end)
            spans.append((figure.start, figure.end, NUM_TAG if numeric else NAME_TAG))
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
    protected = [m.span() for m in re.finditer("〔[数名]〕", text)]
    spans = _figure_spans(text) + [(s, e, NAME_TAG) for s, e in _name_spans(text)]
    masked = _ANY_DIGIT.sub(NUM_TAG, _apply(text, spans, protected))
    return _REPEATED_TAG.sub(r"\1", masked)
