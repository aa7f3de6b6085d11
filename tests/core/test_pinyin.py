from hypothesis import given
from hypothesis import strategies as st

from kehu.core import pinyin as p


def matches(keys, query: str) -> bool:
    q = p.query_key(query)
    return any(k.startswith(q) for k in p.minimal_keys(keys))


def test_pinyin_full_and_initials():
    assert p.pinyin_full("张三丰") == "zhangsanfeng"
    assert p.pinyin_initials("张三丰") == "zsf"
    assert p.pinyin_full("重庆") == "chongqing"


def test_name_is_found_by_substring_pinyin_and_initials():
    keys = p.text_keys("张三丰")
    for query in ["张", "三丰", "丰", "张三丰", "zhang", "zhangsan", "sanfeng", "zsf", "zs", "sf"]:
        assert matches(keys, query), query
    for query in ["李", "zhangsi", "zf", "丰张"]:
        assert not matches(keys, query), query


def test_company_found_without_its_legal_suffix():
    keys = p.text_keys("重庆华信科技有限公司")
    for query in ["华信", "chongqing", "huaxin", "cqhx", "华信科技有限公司", "重庆华信科技"]:
        assert matches(keys, query), query


def test_latin_names_match_word_starts():
    keys = p.text_keys("Emma Watson")
    for query in ["emma", "Watson", "wat", "emma wat"]:
        assert matches(keys, query), query
    assert not matches(keys, "tson")


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.data())
def test_every_phone_fragment_of_four_or_more_digits_is_found(digits, data):
    start = data.draw(st.integers(0, 7))
    end = data.draw(st.integers(start + 4, 11))
    keys = p.phone_keys(digits)
    assert any(k.startswith(digits[start:end]) for k in p.minimal_keys(keys))


def test_email_keys():
    keys = p.email_keys("Zhang.San@QQ.com")
    assert matches(keys, "zhang.s") and matches(keys, "qq.com") and matches(keys, "@qq.com")


def test_minimal_keys_drops_only_prefixes_of_other_keys():
    assert p.minimal_keys({"abc", "ab", "abd", "x"}) == ["abc", "abd", "x"]
